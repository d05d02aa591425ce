using Cluster.Contracts.Models;
using Cluster.Grains.Scaling;

namespace Cluster.Grains.Tests.Scaling;

public sealed class ReplicaCountPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ModelConfig Config = new()
    {
        MinReplicas = 1,
        MaxReplicas = 4,
        Autoscaling = new AutoscalingConfig { TargetQueuePerReplica = 2, UpscaleDelay = TimeSpan.FromSeconds(5), DownscaleDelay = TimeSpan.FromSeconds(30) },
    };

    [Fact]
    public void Decide_BelowMinOrAboveMax_GoesToTheBoundAtOnce()
    {
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 0, 0, new ScalingState(), Start));
        Assert.Equal(4, ReplicaCountPolicy.Decide(Config, 6, 100, new ScalingState(), Start));
    }

    [Fact]
    public void Decide_HighLoad_AddsReplicasOnlyAfterTheUpscaleDelay()
    {
        var state = new ScalingState();
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 1, 7, state, Start));
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 1, 7, state, Start.AddSeconds(4.9)));
        Assert.Equal(4, ReplicaCountPolicy.Decide(Config, 1, 7, state, Start.AddSeconds(5)));
    }

    [Fact]
    public void Decide_LoadDippingBetween_RestartsTheDelay()
    {
        var state = new ScalingState();
        ReplicaCountPolicy.Decide(Config, 1, 7, state, Start);
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 1, 2, state, Start.AddSeconds(3)));
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 1, 7, state, Start.AddSeconds(6)));
        Assert.Equal(4, ReplicaCountPolicy.Decide(Config, 1, 7, state, Start.AddSeconds(11)));
    }

    [Fact]
    public void Decide_Idle_ScalesToMinAfterTheDownscaleDelay()
    {
        var state = new ScalingState();
        Assert.Equal(3, ReplicaCountPolicy.Decide(Config, 3, 0, state, Start));
        Assert.Equal(3, ReplicaCountPolicy.Decide(Config, 3, 0, state, Start.AddSeconds(29)));
        Assert.Equal(1, ReplicaCountPolicy.Decide(Config, 3, 0, state, Start.AddSeconds(30)));
    }
}
