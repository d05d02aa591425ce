using System.Diagnostics;
using Cluster.Benchmarks;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Load;
using Cluster.Edge.Tests.Fuzzing;
using Cluster.Tests.Shared;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Deploy.Tests;

/// <summary>
/// Silo processes stopped by SIGTERM as an orchestrator stops them: a client's open stream must not spend the
/// stop budget that the drain needs, and a whole fleet stopped at once must leave without placing replicas on
/// silos that are leaving. Each silo must exit 0 within the 20 s that <c>deploy/local/fleet.sh</c> allows.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class SiloStopTests
{
    private const string Model = "tiny_classifier";

    /// <summary>What <c>deploy/local/fleet.sh</c> and a pod's grace period allow a silo before it is killed.</summary>
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(20);

    private static readonly Dictionary<string, string> StopLogs = new()
    {
        ["Logging__LogLevel__Cluster.Grains.Drain.GracefulDrain"] = "Information",
        ["Logging__LogLevel__Cluster.Grains.Scaling.ReplicaAutoscalerGrain"] = "Information",
    };

    [Fact]
    public async Task Sigterm_WithAnOpenStream_EndsTheStreamAndStillDrains()
    {
        using var redis = await RedisServer.StartAsync();
        var models = ModelRepository("""{"max_batch_size": 8}""");
        try
        {
            using var fleet = await SiloFleet.StartAsync(RepositoryPaths.Root, redis.ConnectionString, models, 1, StopLogs);
            using var channel = GrpcChannel.ForAddress(fleet.GrpcAddresses.Single());
            var edge = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            using var stream = edge.ModelStreamInfer();
            await stream.RequestStream.WriteAsync(GrpcFuzzCases.Valid(Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1));
            Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Empty(stream.ResponseStream.Current.ErrorMessage);

            // The stream stays open: the client neither sends more nor completes it.
            fleet.Terminate(0);
            var process = fleet.Processes.Single();
            Assert.True(await ExitsWithinAsync(process, StopBudget), $"silo still running {StopBudget.TotalSeconds} s after SIGTERM:\n{fleet.Output(0)}");
            var output = fleet.Output(0);
            Assert.True(process.ExitCode == 0, output);
            Assert.Contains("Silo silo-0 drained in", output, StringComparison.Ordinal);
            Assert.DoesNotContain("could not", output, StringComparison.Ordinal);
            Assert.False(await StreamGoesOnAsync(stream.ResponseStream), "the stream answered after the silo stopped");
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_ToTheWholeFleetAtOnce_PlacesNothingAndEverySiloExitsCleanly()
    {
        const int Silos = 3;
        using var redis = await RedisServer.StartAsync();
        var models = ModelRepository($$"""{"max_batch_size": 8, "min_replicas": {{Silos}}, "max_replicas": {{Silos}}}""");
        try
        {
            using var fleet = await SiloFleet.StartAsync(RepositoryPaths.Root, redis.ConnectionString, models, Silos, StopLogs);
            await using (var observer =
                await ClusterConnection.ConnectAsync(
                    new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId }))
            {
                await WaitForReplicasAsync(observer, Silos);
            }

            var before = Enumerable.Range(0, Silos).Select(i => fleet.Output(i).Length).ToArray();
            using (var kill =
                Process.Start("kill", ["-TERM", .. fleet.Processes.Select(p => p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))])!)
            {
                await kill.WaitForExitAsync();
            }

            var exited = await Task.WhenAll(fleet.Processes.Select(p => ExitsWithinAsync(p, StopBudget)));
            var outputs = Enumerable.Range(0, Silos).Select(i => fleet.Output(i)).ToArray();
            var all = string.Join("\n----\n", outputs);
            Assert.True(exited.All(e =>
                e), $"silo(s) {string.Join(", ", exited.Select((e, i) => e ? -1 : i).Where(i => i >= 0))} still running {StopBudget.TotalSeconds} s after " +
                    $"SIGTERM:\n{all}");
            Assert.True(fleet.Processes.All(p => p.ExitCode == 0), all);
            for (var i = 0; i < Silos; i++)
            {
                var stopping = outputs[i][before[i]..];
                Assert.Contains($"Silo silo-{i} drained in", stopping, StringComparison.Ordinal);
                Assert.DoesNotContain("Autoscaler added", stopping, StringComparison.Ordinal);
                Assert.DoesNotContain("Autoscaler moves", stopping, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>A model repository holding the demo classifier under <paramref name="configJson"/>.</summary>
    private static string ModelRepository(string configJson)
    {
        var models = Directory.CreateTempSubdirectory("cluster-stop-models-").FullName;
        ModelCopies.Copy(Path.Combine(RepositoryPaths.Root, "deploy", "models"), Model, models, configJson: configJson);
        return models;
    }

    private static async Task<bool> ExitsWithinAsync(Process process, TimeSpan budget)
    {
        using var timeout = new CancellationTokenSource(budget);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Whether the stream yields another answer: false once it has ended, cleanly or in an error.</summary>
    private static async Task<bool> StreamGoesOnAsync(IAsyncStreamReader<ModelStreamInferResponse> responses)
    {
        try
        {
            return await responses.MoveNext(CancellationToken.None);
        }
        catch (RpcException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits for <paramref name="count"/> silos to hold one ready replica each: replicas started together may first
    /// land two on one silo, and the autoscaler's move that spreads them must not be mistaken for placement during the stop.
    /// </summary>
    private static async Task WaitForReplicasAsync(ClusterConnection observer, int count)
    {
        var waited = Stopwatch.StartNew();
        while ((await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync())
            .Silos.Count(s => s.Replicas.Count(r => r.Model == Model && r.Accepting) == 1) < count)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(90), $"{Model} not spread one ready replica per silo over {count} silos after 90 s");
            await Task.Delay(250);
        }
    }
}
