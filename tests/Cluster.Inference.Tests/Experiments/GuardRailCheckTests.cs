using Cluster.Contracts.Experiments;
using Cluster.Inference.Experiments;

namespace Cluster.Inference.Tests.Experiments;

public sealed class GuardRailCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly GuardRail Rail = new() { MaxErrorRateIncrease = 0.05, MaxP99Ratio = 2, Window = TimeSpan.FromSeconds(30), MinRequests = 20 };

    [Fact]
    public void Breach_ArmFailingTenPercentMore_StopsItNamingTheErrorRates()
    {
        var reason = GuardRailCheck.Breach(Rail, Requests(100, failures: 1, ms: 10), Requests(100, failures: 11, ms: 10), Now);

        Assert.Equal("error rate 11.0% against the control's 1.0% over the last 30 s (limit: 5.0 points above the control)", reason);
    }

    [Fact]
    public void Breach_ArmThreeTimesSlower_StopsItNamingTheP99s()
    {
        var reason = GuardRailCheck.Breach(Rail, Requests(100, failures: 0, ms: 10), Requests(100, failures: 0, ms: 30), Now);

        Assert.Equal("p99 latency 30 ms against the control's 10 ms over the last 30 s (limit: 2x the control's)", reason);
    }

    [Fact]
    public void Breach_WithinLimits_LetsItRun()
    {
        Assert.Null(GuardRailCheck.Breach(Rail, Requests(100, failures: 1, ms: 10), Requests(100, failures: 4, ms: 19), Now));
    }

    [Fact]
    public void Breach_FewerRequestsThanTheMinimum_DoesNotJudge()
    {
        Assert.Null(GuardRailCheck.Breach(Rail, Requests(100, failures: 0, ms: 10), Requests(19, failures: 19, ms: 10), Now));
    }

    [Fact]
    public void Breach_FailuresOlderThanTheWindow_AreNotCounted()
    {
        var old = new ArmStatistics { Samples =
            [.. Enumerable.Range(0, 50).Select(_ => new LatencySample(Now.AddSeconds(-31), 10, Failed: true)), .. Requests(50, 0, 10).Samples] };

        Assert.Null(GuardRailCheck.Breach(Rail, Requests(100, failures: 0, ms: 10), old, Now));
    }

    private static ArmStatistics Requests(int count, int failures, double ms) => new()
    {
        Requests = count,
        Errors = failures,
        Samples = [.. Enumerable.Range(0, count).Select(i => new LatencySample(Now.AddSeconds(-1), ms, Failed: i < failures))],
    };
}
