using Cluster.Inference.Text;

namespace Cluster.Inference.Tests.Text;

public sealed class LengthGroupsTests
{
    [Fact]
    public void Every_sequence_lands_in_exactly_one_run_and_runs_stay_under_the_padding_limit()
    {
        var random = new Random(7);
        var lengths = Enumerable.Range(0, 200).Select(_ => random.Next(3, 120)).ToArray();

        var groups = LengthGroups.Plan(lengths, 0.2);

        Assert.Equal(Enumerable.Range(0, lengths.Length), groups.SelectMany(g => g).Order());
        foreach (var group in groups)
        {
            var positions = group.Length * group.Max(i => lengths[i]);
            var padding = positions - group.Sum(i => lengths[i]);
            Assert.True(padding <= 0.2 * positions, $"run of {group.Length} pads {padding} of {positions} positions");
        }

        var totalPositions = groups.Sum(g => g.Length * g.Max(i => lengths[i]));
        Assert.True(groups.Count < lengths.Length / 4, $"{groups.Count} runs for {lengths.Length} sequences");
        Assert.True(totalPositions - lengths.Sum() <= 0.2 * totalPositions);
    }

    [Fact]
    public void Equal_lengths_share_one_run_and_zero_tolerance_splits_by_length()
    {
        Assert.Single(LengthGroups.Plan([9, 9, 9, 9], 0.0));
        var groups = LengthGroups.Plan([5, 9, 5, 9, 7], 0.0);
        Assert.Equal([[0, 2], [4], [1, 3]], groups);
    }

    [Fact]
    public void Runs_are_ordered_shortest_first()
    {
        var groups = LengthGroups.Plan([40, 4, 20], 0.0);
        Assert.Equal([[1], [2], [0]], groups);
    }
}
