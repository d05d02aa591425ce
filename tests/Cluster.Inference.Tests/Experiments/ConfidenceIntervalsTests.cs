using Cluster.Inference.Experiments;

namespace Cluster.Inference.Tests.Experiments;

public sealed class ConfidenceIntervalsTests
{
    [Fact]
    public void QuantileDifference_ArmOnASlowerDevice_IsSignificantAndNearTheTrueShift()
    {
        var control = Latencies(seed: 1, count: 400, offset: 10);
        var slower = Latencies(seed: 2, count: 400, offset: 15);

        var p50 = ConfidenceIntervals.QuantileDifference(control, slower, 0.5, seed: 20);

        Assert.True(p50.Significant);
        Assert.InRange(p50.Estimate, 4, 6);
        Assert.True(p50.Low > 3 && p50.High < 7);
    }

    [Fact]
    public void QuantileDifference_AaTestOfOneDistribution_IsNotSignificant()
    {
        var first = Latencies(seed: 3, count: 400, offset: 10);
        var second = Latencies(seed: 4, count: 400, offset: 10);

        Assert.False(ConfidenceIntervals.QuantileDifference(first, second, 0.5, seed: 20).Significant);
        Assert.False(ConfidenceIntervals.QuantileDifference(first, second, 0.99, seed: 20).Significant);
    }

    [Fact]
    public void QuantileDifference_SameData_GivesTheSameIntervalEveryTime()
    {
        var control = Latencies(seed: 5, count: 100, offset: 10);
        var arm = Latencies(seed: 6, count: 100, offset: 11);

        Assert.Equal(
            ConfidenceIntervals.QuantileDifference(control, arm, 0.99, seed: 20),
            ConfidenceIntervals.QuantileDifference(control, arm, 0.99, seed: 20));
    }

    [Fact]
    public void Wilson_NoHitsInTen_MatchesThePublishedInterval()
    {
        var (rate, low, high) = ConfidenceIntervals.Wilson(0, 10);

        Assert.Equal(0, rate);
        Assert.Equal(0, low, 4);
        Assert.Equal(0.2775, high, 4);
    }

    [Fact]
    public void RateDifference_FivePercentAgainstTwentyPercent_IsSignificant()
    {
        var difference = ConfidenceIntervals.RateDifference(controlHits: 5, controlTotal: 100, armHits: 20, armTotal: 100);

        Assert.Equal(0.15, difference.Estimate, 10);
        Assert.True(difference.Significant);
        Assert.InRange(0.15, difference.Low, difference.High);
    }

    [Fact]
    public void RateDifference_TenAgainstElevenPercent_IsNotSignificant()
    {
        var difference = ConfidenceIntervals.RateDifference(controlHits: 10, controlTotal: 100, armHits: 11, armTotal: 100);

        Assert.False(difference.Significant);
        Assert.True(difference.Low < 0 && difference.High > 0);
    }

    [Fact]
    public void Quantile_NearestRank_PicksTheRankedValue()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        Assert.Equal(5, ConfidenceIntervals.Quantile(sorted, 0.5));
        Assert.Equal(10, ConfidenceIntervals.Quantile(sorted, 0.99));
        Assert.Equal(1, ConfidenceIntervals.Quantile(sorted, 0));
    }

    /// <summary>Skewed latencies: <paramref name="offset"/> ms plus an exponential tail of mean 2 ms.</summary>
    private static double[] Latencies(int seed, int count, double offset)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => offset - (2 * Math.Log(1 - random.NextDouble())))];
    }
}
