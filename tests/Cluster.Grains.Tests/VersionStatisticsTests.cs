using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests;

/// <summary>A version's statistics and readiness speak for all its replicas, not for replica 0 alone.</summary>
public sealed class VersionStatisticsTests
{
    /// <summary>tiny_classifier kept at three replicas.</summary>
    private const string Model = "tiny_trio";

    private const int Requests = 90;

    [Fact]
    public async Task Statistics_SumEveryReplicasRequests()
    {
        await using var cluster = await InProcessCluster.StartAsync(["trio"], prepareRepository: AddModel);
        var keys = await WaitForReplicasAsync(cluster, 3);
        Assert.True(await cluster.Client.IsReadyAsync(Model));

        var input = new[] { TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4) };
        await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => Task.Run(() => cluster.Client.InferAsync(Model, input))));

        var perReplica = await Task.WhenAll(keys.Select(k => cluster.Client.Grains!.GetGrain<IModelBatcherGrain>(k).GetStatisticsAsync()));
        Assert.True(perReplica.Count(s => s.Success.Count > 0) >= 2, $"Requests per replica: {string.Join(", ", perReplica.Select(s => s.Success.Count))}");
        var total = await cluster.Client.GetStatisticsAsync(Model);
        Assert.Equal(Requests, total.Success.Count);
        Assert.Equal(Requests, total.InferenceCount);
        Assert.Equal(perReplica.Sum(s => s.ExecutionCount), total.ExecutionCount);
        Assert.Equal(total.ExecutionCount, total.Batches.Sum(b => b.ComputeInfer.Count));
        Assert.Equal(perReplica.Max(s => s.LastInferenceMs), total.LastInferenceMs);
    }

    private static async Task<List<string>> WaitForReplicasAsync(InProcessCluster cluster, int count)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var board = await cluster.Client.Grains!.GetGrain<IClusterLoadGrain>(0).GetAsync();
            var keys = board.Silos.SelectMany(s => s.Replicas).Where(r => r.Model == Model && r.Accepting).Select(r => r.Key).ToList();
            if (keys.Count >= count)
            {
                return keys;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"Replicas of {Model} after 60 s: {string.Join(", ", keys)}");
            await Task.Delay(250);
        }
    }

    private static void AddModel(string repository)
    {
        var source = Path.Combine(repository, "tiny_classifier");
        var target = Path.Combine(repository, Model);
        Directory.CreateDirectory(Path.Combine(target, "1"));
        File.Copy(Path.Combine(source, "1", "model.onnx"), Path.Combine(target, "1", "model.onnx"));
        File.WriteAllText(Path.Combine(target, "config.json"), """{ "max_batch_size": 8, "device_kinds": ["cpu"], "min_replicas": 3, "max_replicas": 3 }""");
    }
}
