using System.Globalization;
using Cluster.Client;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests.Placement;

/// <summary>
/// Silos <c>s1</c>, <c>s2</c>, <c>s4</c>, each with one simulated device of relative speed 1, 2 and 4
/// (batch latency 2 ms + 20 ms per item, divided by the speed, so throughput hardly depends on batch size, and
/// slow enough that the devices, not the test machine's cores, bound the throughput), and optionally a CPU-only silo
/// <c>cpu</c>; plus helpers to add sim-only models, read the load board and drive load.
/// </summary>
internal static class SpeedTierCluster
{
    public static readonly string[] SimSilos = ["s1", "s2", "s4"];

    public static Task<InProcessCluster> StartAsync(bool withCpuOnlySilo) => InProcessCluster.StartAsync(
        withCpuOnlySilo ? [.. SimSilos, "cpu"] : SimSilos,
        perSilo: i => i < SimSilos.Length ? SimDevice(1 << i) : []);

    /// <summary>Adds a copy of tiny_classifier that runs only on simulated devices, with the given replica bounds, and loads it.</summary>
    public static async Task AddModelAsync(InProcessCluster cluster, string name, int minReplicas, int maxReplicas, string autoscaling = "{}")
    {
        ClassifierCopies.Add(cluster.ModelRepository, name, string.Create(
            CultureInfo.InvariantCulture,
            $$"""
            {"max_batch_size": 4, "device_kinds": ["sim"], "min_replicas": {{minReplicas}}, "max_replicas": {{maxReplicas}},
             "autoscaling": {{autoscaling}}}
            """));
        await cluster.Connection.Admin.LoadAsync(name, null);
    }

    /// <summary>The accepting replicas of a model on the board, as (key, silo).</summary>
    public static async Task<List<(string Key, string Silo)>> ReplicasAsync(InProcessCluster cluster, string model)
    {
        var board = await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
        return [.. board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == model && r.Accepting).Select(r => (r.Key, s.Silo)))
            .OrderBy(r => r.Key, StringComparer.Ordinal)];
    }

    /// <summary>Waits (up to 60 s) until the model's accepting replicas satisfy <paramref name="done"/>.</summary>
    public static async Task<List<(string Key, string Silo)>> WaitForReplicasAsync(InProcessCluster cluster, string model, Func<List<(string Key, string Silo)>,
        bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var replicas = await ReplicasAsync(cluster, model);
            if (done(replicas))
            {
                return replicas;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Replicas of {model} after 60 s: {string.Join(", ", replicas.Select(r => $"{r.Key}@{r.Silo}"))}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits (up to 30 s) until every device on the board was idle over the latest report.</summary>
    public static async Task WaitForIdleDevicesAsync(InProcessCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Any(s => s.Devices.Any(d => d.BusyFraction > 0.01)))
        {
            Assert.True(DateTime.UtcNow < deadline, "Devices still busy after 30 s.");
            await Task.Delay(200);
        }
    }

    /// <summary>Successful requests per replica key.</summary>
    public static async Task<Dictionary<string, long>> SuccessesAsync(InProcessCluster cluster, IEnumerable<string> keys)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            counts[key] = (await cluster.Connection.Grains.GetGrain<IModelBatcherGrain>(key).GetStatisticsAsync()).Success.Count;
        }

        return counts;
    }

    /// <summary>
    /// <paramref name="callers"/> callers each sending one request after another until <paramref name="stop"/>;
    /// returns (succeeded, failures' messages).
    /// </summary>
    public static async Task<(long Succeeded, List<string> Failures)> ClosedLoopAsync(InferenceClient client, string model, int callers, CancellationToken stop)
    {
        long succeeded = 0;
        var failures = new List<string>();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await client.InferAsync(model, [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)]);
                    Interlocked.Increment(ref succeeded);
                }
                catch (Exception e)
                {
                    lock (failures)
                    {
                        failures.Add($"{e.GetType().Name}: {e.Message}");
                    }
                }
            }
        }));
        return (succeeded, failures);
    }

    /// <summary>One simulated device of relative speed <paramref name="speed"/>: 2 ms + 20 ms per item, divided by the speed.</summary>
    public static Dictionary<string, string?> SimDevice(int speed) => new()
    {
        ["Cluster:Devices:Simulated:0:Profile"] = $"x{speed}",
        ["Cluster:Devices:Simulated:0:FixedLatencyMicroseconds"] = (2000 / speed).ToString(CultureInfo.InvariantCulture),
        ["Cluster:Devices:Simulated:0:PerItemMicroseconds"] = (20000 / speed).ToString(CultureInfo.InvariantCulture),
        ["Cluster:Devices:Simulated:0:Speed"] = speed.ToString(CultureInfo.InvariantCulture),
    };
}
