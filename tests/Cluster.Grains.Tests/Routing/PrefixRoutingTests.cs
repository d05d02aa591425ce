using Cluster.Client.Routing;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Grains;
using Cluster.Grains.Tests.Placement;
using Cluster.Inference.Generation;

namespace Cluster.Grains.Tests.Routing;

/// <summary>Two replicas of the demo decoder on two silos: prompts sharing a long start go to one replica and hit its prefix cache.</summary>
public sealed class PrefixRoutingTests
{
    private const string Model = DemoDecoder.Name;

    [Fact]
    public async Task GenerateAsync_PromptsSharingALongStart_LandOnOneReplicaAndHitItsCache()
    {
        await using var cluster = await InProcessCluster.StartAsync(["prefix-a", "prefix-b"], prepareRepository: AddModel);
        // One replica on each silo: two replicas on one silo would share that silo's engine and its prefix cache (the autoscaler
        // spreads them when placement, under load, put both on one).
        var placed = await SpeedTierCluster.WaitForReplicasAsync(
            cluster, Model, replicas => replicas.Count == 2 && replicas.Select(r => r.Silo).Distinct().Count() == 2);
        var keys = placed.Select(r => r.Key).Order(StringComparer.Ordinal).ToArray();
        var router = cluster.Client.Router!;
        await router.WaitForFirstTableAsync(CancellationToken.None);
        for (var wait = 0; wait < 100 && !RoutedKeys(router).SequenceEqual(keys); wait++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(keys, RoutedKeys(router));
        var file = string.Concat(Enumerable.Range(0, 40).Select(i => $"line {i}: let total = total + item{i} * weight{i};\n"));
        var cached = new List<int>();
        for (var keystroke = 0; keystroke < 8; keystroke++)
        {
            var request = new GenerationRequest { Prompt = file + new string('x', keystroke * 3), MaxTokens = 2, Temperature = 0, IgnoreEos = true };
            var tokens = new List<GeneratedToken>();
            await foreach (var token in cluster.Client.GenerateAsync(Model, request))
            {
                tokens.Add(token);
            }

            Assert.Equal("length", tokens[^1].FinishReason);
            cached.Add(tokens[^1].CachedPromptTokens);
        }

        var statistics = new List<GenerationReplicaStatistics>();
        foreach (var key in keys)
        {
            statistics.Add(await cluster.Client.Grains!.GetGrain<IModelBatcherGrain>(key).GetGenerationStatisticsAsync() ?? new GenerationReplicaStatistics());
        }

        // One replica took every prompt; every one after the first found the file's blocks there.
        Assert.Single(statistics, s => s.PromptTokens > 0);
        Assert.Equal(0, cached[0]);
        Assert.All(cached.Skip(1), c => Assert.InRange(c, 256, int.MaxValue));
        Assert.Equal(cached.Sum(), statistics.Sum(s => s.PrefixCacheHits));
        Assert.Equal((7L, 7L), router.AffinityCounts);
    }

    private static string[] RoutedKeys(ReplicaRouter router) =>
        router.Table.Of(Model, 1).Replicas.Select(r => r.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The demo decoder with two replicas on CPU devices.</summary>
    private static void AddModel(string repository)
    {
        DemoDecoder.Write(repository);
        File.WriteAllText(
            Path.Combine(repository, Model, "config.json"),
            DemoDecoder.ConfigJson.Replace("\"instance_count\": 1,", "\"instance_count\": 1, \"min_replicas\": 2, \"max_replicas\": 2,",
                StringComparison.Ordinal)
                .Replace("[\"cuda\", \"cpu\"]", "[\"cpu\"]", StringComparison.Ordinal));
    }
}
