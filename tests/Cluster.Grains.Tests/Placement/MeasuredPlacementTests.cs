using Cluster.Contracts.Load;
using Cluster.Contracts.Models;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests.Placement;

/// <summary>Placement weighs devices by the model's measured throughput where a replica of it runs.</summary>
public sealed class MeasuredPlacementTests
{
    private static readonly PlacementRequest Request = new("m", 1, new ModelConfig { DeviceKinds = ["cuda"] }, 0);
    private static readonly HashSet<string> NoneDraining = [];

    [Fact]
    public void Rank_EqualConfiguredSpeeds_MeasuredFasterSiloFirst()
    {
        var ranked = ReplicaPlacementScoring.Rank(Request, [Silo("a", configured: 1, measured: 100), Silo("b", configured: 1, measured: 300)], NoneDraining);
        Assert.Equal(["b", "a"], ranked.Select(r => r.Silo));

        // 400 items/s over 2 units of configured speed: 200 items/s per unit, so b's device counts as 1.5 and a's as 0.5.
        Assert.Equal([1.5, 0.5], ranked.Select(r => r.Speed));
    }

    [Fact]
    public void Rank_NothingMeasured_ConfiguredSpeedsDecide()
    {
        var ranked = ReplicaPlacementScoring.Rank(Request, [Silo("a", configured: 2, measured: 0), Silo("b", configured: 1, measured: 0)], NoneDraining);
        Assert.Equal(["a", "b"], ranked.Select(r => r.Silo));
        Assert.Equal([2.0, 1.0], ranked.Select(r => r.Speed));
    }

    [Fact]
    public void For_OtherModelsMeasurements_AreIgnored()
    {
        var other = Silo("a", configured: 1,
            measured: 100) with { Replicas =
                [new ReplicaLoad { Key = "other:1/0", Model = "other", Version = 1, Device = "cuda:0", Capacity = 1, MeasuredCapacity = 100 }] };
        Assert.Empty(MeasuredDeviceSpeed.For("m", [other]));
    }

    private static SiloLoad Silo(string name, double configured, double measured) => new()
    {
        Silo = name,
        Devices = [new DeviceLoad { Name = "cuda:0", Kind = "cuda", Speed = configured, Healthy = true }],
        Replicas = [new ReplicaLoad { Key = $"m:1/{name}", Model = "m", Version = 1, Device = "cuda:0", Capacity = configured, MeasuredCapacity = measured,
            Accepting = true }],
    };
}
