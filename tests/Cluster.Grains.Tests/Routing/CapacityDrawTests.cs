using Cluster.Client.Routing;

namespace Cluster.Grains.Tests.Routing;

public sealed class CapacityDrawTests
{
    [Theory]
    [InlineData(new[] { 1.0, 2.0, 4.0 })]
    [InlineData(new[] { 0.25, 8.0, 1.0, 1.0, 3.5 })]
    [InlineData(new[] { 5.0 })]
    public void Next_DrawsEachIndexInProportionToItsCapacity(double[] capacities)
    {
        var draw = new CapacityDraw(capacities);
        var random = new Random(11);
        var counts = new int[capacities.Length];
        const int Draws = 400_000;
        for (var i = 0; i < Draws; i++)
        {
            counts[draw.Next(random)]++;
        }

        var total = capacities.Sum();
        for (var i = 0; i < capacities.Length; i++)
        {
            var expected = capacities[i] / total;
            Assert.InRange(counts[i] / (double)Draws, expected - 0.005, expected + 0.005);
        }
    }

    [Fact]
    public void Next_ManyEqualReplicas_CoversEveryOne()
    {
        var draw = new CapacityDraw([.. Enumerable.Repeat(1.0, 1000)]);
        var random = new Random(3);
        var seen = new HashSet<int>();
        for (var i = 0; i < 20_000; i++)
        {
            seen.Add(draw.Next(random));
        }

        Assert.Equal(1000, seen.Count);
        Assert.Equal(1000, draw.Count);
    }
}
