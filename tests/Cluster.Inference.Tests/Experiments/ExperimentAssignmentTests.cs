using Cluster.Contracts.Experiments;

namespace Cluster.Inference.Tests.Experiments;

public sealed class ExperimentAssignmentTests
{
    private static readonly Experiment ThreeArms = new()
    {
        Id = "tiny-1a2b3c4d",
        Model = "tiny",
        Arms =
        [
            new ExperimentArm { Name = "control", Version = 1, Percent = 50 },
            new ExperimentArm { Name = "batched", Version = 1, Percent = 30 },
            new ExperimentArm { Name = "fast", Version = 2, Percent = 20 },
        ],
    };

    [Fact]
    public void Choose_SameKey_AlwaysTheSameArm()
    {
        for (var user = 0; user < 100; user++)
        {
            var key = $"user-{user}";
            var first = ExperimentAssignment.Choose(ThreeArms, key, 0.01);

            Assert.All(Enumerable.Range(0, 5), i => Assert.Same(first, ExperimentAssignment.Choose(ThreeArms, key, i / 5.0)));
        }
    }

    [Fact]
    public void Choose_TenThousandKeys_SharesWithinThreePoints()
    {
        var counts = Count(i => ExperimentAssignment.Choose(ThreeArms, $"session-{i}", 0));

        AssertShares(counts, [50, 30, 20]);
    }

    [Fact]
    public void Choose_TenThousandKeylessRequests_SharesWithinThreePoints()
    {
        var random = new Random(7);
        var counts = Count(_ => ExperimentAssignment.Choose(ThreeArms, null, random.NextDouble()));

        AssertShares(counts, [50, 30, 20]);
    }

    [Fact]
    public void Choose_StoppedArm_ItsKeysGoToTheControlAndNoOtherKeyMoves()
    {
        var stopped = ThreeArms with { Arms = [ThreeArms.Arms[0], ThreeArms.Arms[1] with { StoppedReason = "error rate" }, ThreeArms.Arms[2]] };
        var counts = Count(i => ExperimentAssignment.Choose(stopped, $"session-{i}", 0));

        Assert.Equal([80, 0, 20], stopped.LiveShares());
        AssertShares(counts, [80, 0, 20]);
        Assert.All(Enumerable.Range(0, 1000).Select(i => $"session-{i}").Where(k => ExperimentAssignment.Choose(ThreeArms, k, 0).Name == "fast"),
            k => Assert.Equal("fast", ExperimentAssignment.Choose(stopped, k, 0).Name));
    }

    [Fact]
    public void Bucket_AnotherExperiment_ReshufflesKeys()
    {
        var moved = Enumerable.Range(0, 1000).Count(i => ExperimentAssignment.Bucket($"u{i}", "a") != ExperimentAssignment.Bucket($"u{i}", "b"));

        Assert.InRange(moved, 900, 1000);
    }

    private static int[] Count(Func<int, ExperimentArm> choose)
    {
        var counts = new int[ThreeArms.Arms.Length];
        for (var i = 0; i < 10_000; i++)
        {
            var chosen = choose(i).Name;
            counts[Array.FindIndex(ThreeArms.Arms, a => a.Name == chosen)]++;
        }

        return counts;
    }

    private static void AssertShares(int[] counts, int[] percents)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            Assert.InRange(counts[i] / 100.0, percents[i] - 3, percents[i] + 3);
        }
    }
}
