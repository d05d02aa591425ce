using System.Diagnostics;
using Cluster.Benchmarks;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>
/// A model's <c>retry_on_replica_loss</c> with real silo processes: two silos through a real Redis, each with a
/// simulated device whose every batch takes 5 s, and two copies of tiny_classifier with a replica on each silo,
/// <c>once</c> (<c>retry_on_replica_loss: false</c>) and <c>retried</c> (the default). Requests to both run on both
/// silos when silo 0 is killed (SIGKILL): the requests of <c>once</c> it held end in <see cref="ReplicaLostException"/>,
/// as they may have run, while every request of <c>retried</c> is answered by the survivor.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class ReplicaLossRetryTests
{
    private const int Silos = 2;
    private const int RequestsPerModel = 6;
    private const string Once = "once";
    private const string Retried = "retried";

    private static readonly Dictionary<string, string> SlowDevice = new()
    {
        ["Cluster__Devices__Simulated__0__Profile"] = "slow",
        ["Cluster__Devices__Simulated__0__FixedLatencyMicroseconds"] = "5000000",
        ["Cluster__Devices__Simulated__0__PerItemMicroseconds"] = "0",
        ["Cluster__Devices__Simulated__0__Speed"] = "1",
    };

    [Fact]
    public async Task SiloKilledWithRequestsInFlight_FailsOnlyTheOptedOutModelsRequests_AsReplicaLost()
    {
        var models = Directory.CreateTempSubdirectory("replica-loss-models-").FullName;
        try
        {
            var source = Path.Combine(RepositoryPaths.Root, "deploy", "models");
            const string config = """{"max_batch_size": 8, "device_kinds": ["sim"], "min_replicas": 2, "max_replicas": 2""";
            ModelCopies.Copy(source, "tiny_classifier", models, Once, config + """, "retry_on_replica_loss": false}""");
            ModelCopies.Copy(source, "tiny_classifier", models, Retried, config + "}");
            using var redis = await RedisServer.StartAsync();
            using var fleet = await SiloFleet.StartAsync(RepositoryPaths.Root, redis.ConnectionString, models, Silos, SlowDevice);
            await using var observer = await ClusterConnection.ConnectAsync(
                new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId });
            var onVictim = new List<string>();
            foreach (var model in new[] { Once, Retried })
            {
                await observer.Admin.LoadAsync(model, null);
                onVictim.Add((await WaitForOneReplicaPerSiloAsync(observer, model)).Single(r => r.Silo == "silo-0").Key);
            }

            await using var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = fleet.ClusterId,
                Gateways = [fleet.Gateways.ElementAt(1)],
                ResponseTimeout = TimeSpan.FromSeconds(60),
            });
            var input = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
            var once = Enumerable.Range(0, RequestsPerModel).Select(_ => Outcome(client.Inference.InferAsync(Once, [input]))).ToList();
            var retried = Enumerable.Range(0, RequestsPerModel).Select(_ => Outcome(client.Inference.InferAsync(Retried, [input]))).ToList();
            await WaitUntilRunningAsync(observer, onVictim);
            fleet.Kill(0);

            var onceOutcomes = await Task.WhenAll(once);
            var retriedOutcomes = await Task.WhenAll(retried);
            var summary = $"once: {string.Join("; ", onceOutcomes)} | retried: {string.Join("; ", retriedOutcomes)}";
            Assert.All(retriedOutcomes, outcome => Assert.True(outcome == "answered", summary));
            Assert.Contains(onceOutcomes, outcome => outcome.Contains("retry_on_replica_loss is off", StringComparison.Ordinal));
            Assert.All(onceOutcomes, outcome => Assert.True(
                outcome == "answered" || outcome.StartsWith(nameof(ReplicaLostException), StringComparison.Ordinal), summary));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>"answered", or the exception's type and message.</summary>
    private static async Task<string> Outcome(Task<InferenceResponse> call)
    {
        try
        {
            await call;
            return "answered";
        }
        catch (InferenceException e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <summary>Waits (up to 60 s) until each of <paramref name="replicas"/> runs a batch: the requests it holds are in flight.</summary>
    private static async Task WaitUntilRunningAsync(ClusterConnection observer, List<string> replicas)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var statuses = await Task.WhenAll(replicas.Select(key => observer.Grains.GetGrain<IModelBatcherGrain>(key).GetStatusAsync()));
            if (statuses.All(s => s.RunningBatches > 0))
            {
                return;
            }

            var running = string.Join(", ", statuses.Select(s => $"{s.Key} running {s.RunningBatches}"));
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"Not every replica on silo-0 ran a batch within 60 s: {running}");
            await Task.Delay(100);
        }
    }

    private static async Task<List<(string Key, string Silo)>> WaitForOneReplicaPerSiloAsync(ClusterConnection observer, string model)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var board = await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
            var replicas = board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == model && r.Accepting).Select(r => (r.Key, s.Silo))).ToList();
            if (replicas.Count == Silos && replicas.Select(r => r.Silo).Distinct().Count() == Silos)
            {
                return replicas;
            }

            var placed = string.Join(", ", replicas.Select(r => $"{r.Key}@{r.Silo}"));
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(90), $"Replicas of {model} after 90 s: {placed}");
            await Task.Delay(250);
        }
    }
}
