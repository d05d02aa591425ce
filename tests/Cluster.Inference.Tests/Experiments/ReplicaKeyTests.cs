using Cluster.Contracts.Experiments;
using Cluster.Contracts.Grains;

namespace Cluster.Inference.Tests.Experiments;

public sealed class ReplicaKeyTests
{
    [Theory]
    [InlineData("tiny.v2:3/1", "tiny.v2", 3, 1, "")]
    [InlineData("tiny.v2:3@tiny.v2-1a2b3c4d.fast/0", "tiny.v2", 3, 0, "tiny.v2-1a2b3c4d.fast")]
    public void Parse_PlainAndArmKeys_RoundTrip(string key, string model, long version, int replica, string arm)
    {
        var parsed = ReplicaKey.Parse(key);

        Assert.Equal(new ReplicaKey(model, version, replica, arm), parsed);
        Assert.Equal(key, parsed.ToString());
        Assert.Equal(arm.Length > 0, ReplicaKey.IsArm(key));
    }

    [Theory]
    [InlineData("m:1@/0")]
    [InlineData("m:x@a/0")]
    [InlineData("m:1@a")]
    public void Parse_MalformedArmKey_ThrowsNamingIt(string key)
    {
        var error = Assert.Throws<FormatException>(() => ReplicaKey.Parse(key));

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OfReplicaArm_ExperimentIdWithDots_SplitsAtTheLastDot()
    {
        var experiment = new Experiment { Id = "tiny.v2-1a2b3c4d", Model = "tiny.v2", Arms = [] };

        Assert.Equal(("tiny.v2-1a2b3c4d", "fast"), Experiment.OfReplicaArm(experiment.ReplicaArm("fast")));
    }
}
