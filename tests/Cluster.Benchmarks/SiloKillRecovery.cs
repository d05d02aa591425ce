using System.Diagnostics;
using System.Globalization;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Grains;
using Cluster.Edge.Tests.Overload;
using Cluster.Edge.Tests.Fuzzing;
using Cluster.Tests.Shared;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// Three silo processes through Redis, a steady load on the gRPC edges, then SIGKILL of the silo holding the
/// model's replica: how long until every request succeeds again. Requests are not retried (the SDK's router will), so the
/// time is the cluster's own: Orleans noticing the dead silo and the model's replica starting elsewhere.
/// </summary>
public static class SiloKillRecovery
{
    private const string Model = "tiny_classifier";
    private const int Silos = 3;
    private const int RequestsPerSecond = 150;
    private static readonly TimeSpan SteadyBeforeKill = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan HealthyWindow = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    /// <summary>Seconds from the kill to the last failed request before an unbroken <see cref="HealthyWindow"/> of successes; null if that never came.</summary>
    public static async Task<double?> MeasureAsync(string repositoryRoot)
    {
        using var redis = await RedisServer.StartAsync();
        var models = Directory.CreateTempSubdirectory("cluster-recovery-models-").FullName;
        try
        {
            ModelCopies.Copy(Path.Combine(repositoryRoot, "deploy", "models"), Model, models);
            using var fleet = await SiloFleet.StartAsync(repositoryRoot, redis.ConnectionString, models, Silos);
            int victim;
            await using (var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId }))
            {
                var replica = await client.Grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(Model, 1, 0).ToString()).GetStatusAsync();
                victim = int.Parse(replica.Silo["silo-".Length..], CultureInfo.InvariantCulture);
            }

            var channels = fleet.GrpcAddresses.Select(a => GrpcChannel.ForAddress(a)).ToArray();
            try
            {
                return await LoadAndKillAsync(fleet, victim, [.. channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c))]);
            }
            finally
            {
                foreach (var channel in channels)
                {
                    channel.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    private static async Task<double?> LoadAndKillAsync(SiloFleet fleet, int victim, GRPCInferenceService.GRPCInferenceServiceClient[] edges)
    {
        var request = GrpcFuzzCases.Valid(Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1);

        // Callers use the other silos' edges: the load measures the cluster, not a dead address.
        var survivors = edges.Where((_, i) => i != victim).ToArray();
        var clock = Stopwatch.StartNew();
        TimeSpan? killedAt = null;
        bool KeepGoing(TimeSpan elapsed, IReadOnlyList<Task<(TimeSpan, bool)>> sent)
        {
            if (killedAt is null && elapsed >= SteadyBeforeKill)
            {
                fleet.Kill(victim);
                killedAt = clock.Elapsed;
            }

            return elapsed < GiveUpAfter && (killedAt is not { } kill || elapsed < kill + HealthyWindow || RecoveredAt(sent, kill) is null);
        }

        var outcomes = await OpenLoop.RunAsync(RequestsPerSecond, KeepGoing, n => SendAsync(survivors[n % survivors.Length], request, clock.Elapsed));
        return RecoveredAt([.. outcomes.Select(Task.FromResult)], killedAt!.Value) is { } recovered ? Math.Round((recovered - killedAt.Value).TotalSeconds, 2) : null;
    }

    /// <summary>The send time of the last failure after the kill, once a full healthy window of answered successes follows it.</summary>
    private static TimeSpan? RecoveredAt(IReadOnlyList<Task<(TimeSpan SentAt, bool Ok)>> outcomes, TimeSpan killedAt)
    {
        var lastFailure = killedAt;
        TimeSpan? lastSuccess = null;
        foreach (var outcome in outcomes)
        {
            if (!outcome.IsCompleted)
            {
                return null;
            }

            var (sentAt, ok) = outcome.Result;
            if (sentAt < killedAt)
            {
                continue;
            }

            if (ok)
            {
                lastSuccess = sentAt;
            }
            else
            {
                lastFailure = sentAt;
            }
        }

        return lastSuccess - lastFailure >= HealthyWindow ? lastFailure : null;
    }

    private static async Task<(TimeSpan, bool)> SendAsync(GRPCInferenceService.GRPCInferenceServiceClient edge, ModelInferRequest request, TimeSpan sentAt)
    {
        try
        {
            await edge.ModelInferAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
            return (sentAt, true);
        }
        catch (Grpc.Core.RpcException)
        {
            return (sentAt, false);
        }
    }
}
