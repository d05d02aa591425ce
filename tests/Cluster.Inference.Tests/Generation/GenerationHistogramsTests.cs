using Cluster.Inference.Generation;
using Microsoft.Extensions.Time.Testing;

using static Cluster.Inference.Tests.Generation.EngineRuns;

namespace Cluster.Inference.Tests.Generation;

/// <summary>The engine's cumulative latency histograms (vLLM's buckets), read on a fake clock over the real demo decoder.</summary>
public sealed class GenerationHistogramsTests(GenerationEngineTests.DemoModel model) : IClassFixture<GenerationEngineTests.DemoModel>
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Statistics_TwoRequestsOfThreeTokens_EveryLatencyInItsBucket()
    {
        using var runner = model.OpenRunner();
        var engine = new GenerationEngine(runner, model.Tokenizer, new GenerationSettings { EosTokenIds = [50256], ContextLength = 1024, MaxStepTokens = 32 },
            _time);
        var streams =
            new[] { 464, 2068 }.Select(first => engine.Submit(new GenerationJob { PromptTokens = [first, 7586, 21831], MaxTokens = 3, IgnoreEos = true }))
                .ToList();

        // Both prompts fit one step, so each step gives both sequences a token: at 30, 50 and 70 ms.
        foreach (var wait in new[] { 30, 20, 20 })
        {
            _time.Advance(TimeSpan.FromMilliseconds(wait));
            Assert.True(await engine.StepAsync());
        }

        Assert.All(await Task.WhenAll(streams.Select(Updates)), updates => Assert.Equal(FinishReasons.Length, updates[^1].FinishReason));
        var statistics = engine.Statistics();
        AssertOnlyBucket(statistics.TimeToFirstToken, bound: 0.04, count: 2, sum: 0.06);
        AssertOnlyBucket(statistics.InterTokenLatency, bound: 0.025, count: 4, sum: 0.08);
        AssertOnlyBucket(statistics.EndToEndLatency, bound: 0.3, count: 2, sum: 0.14);
    }

    [Fact]
    public void Plus_SameBounds_AddsCountsAndSums()
    {
        var sum = new HistogramSnapshot([0.1, 1.0], [1, 2, 3], 4.5).Plus(new HistogramSnapshot([0.1, 1.0], [10, 0, 1], 2));

        Assert.Equal([11L, 2L, 4L], sum.Counts);
        Assert.Equal((6.5, 17L), (sum.Sum, sum.Count));
    }

    [Fact]
    public void Plus_DifferentBounds_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => HistogramSnapshot.Empty([0.1]).Plus(HistogramSnapshot.Empty([0.2])));

        Assert.StartsWith("Histograms with different bounds cannot be added.", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Every observation fell in the bucket whose upper bound is <paramref name="bound"/>.</summary>
    private static void AssertOnlyBucket(HistogramSnapshot histogram, double bound, long count, double sum)
    {
        var expected = histogram.Bounds.Select(b => b == bound ? count : 0L).Append(0L).ToArray();
        Assert.Equal(expected, histogram.Counts.ToArray());
        Assert.Equal(sum, histogram.Sum, precision: 9);
    }
}
