using Cluster.Contracts.Load;
using Cluster.Contracts.Models;
using Cluster.Grains.Placement;

namespace Cluster.Grains.Tests.Placement;

public sealed class ReplicaPlacementScoringTests
{
    private const long GiB = 1L << 30;
    private static readonly ModelConfig SimOnly = new() { DeviceKinds = ["sim"] };
    private static readonly HashSet<string> NoneDraining = [];

    [Fact]
    public void Rank_IdleSilos_FastestFirst()
    {
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly), [Silo("s1", 1), Silo("s4", 4), Silo("s2", 2)], NoneDraining);
        Assert.Equal(["s4", "s2", "s1"], ranked.Select(r => r.Silo));
        Assert.Equal(4, ranked[0].Speed);
    }

    [Fact]
    public void Rank_BusyFastSilo_LosesToIdleSlowerOne()
    {
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly), [Silo("s4", 4, busy: 0.9), Silo("s2", 2)], NoneDraining);
        Assert.Equal(["s2", "s4"], ranked.Select(r => r.Silo));
        Assert.Equal(4 * 0.1, ranked[1].Score, 9);
    }

    [Fact]
    public void Rank_ExcludesDrainingWrongKindAndFullSilos()
    {
        SiloLoad[] silos = [Silo("draining", 8), Silo("cpu-only", 8, kind: "cpu"), Silo("full", 8, freeBytes: GiB / 2), Silo("ok", 1)];
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly, memory: GiB), silos, new HashSet<string> { "draining" });
        Assert.Equal(["ok"], ranked.Select(r => r.Silo));
    }

    [Fact]
    public void Rank_SuccessiveReplicas_SpreadOverSilosByCapacity()
    {
        SiloLoad[] silos = [Silo("s1", 1), Silo("s2", 2), Silo("s4", 4)];
        var placed = new Dictionary<string, string>();
        for (var i = 0; i < 4; i++)
        {
            placed[$"m:1/{i}"] = ReplicaPlacementScoring.Rank(Request(SimOnly), silos, NoneDraining, placed)[0].Silo;
        }

        Assert.Equal(["s4", "s2", "s1", "s4"], placed.Values);
    }

    [Fact]
    public void Rank_ReplicaInTheSameZone_SendsTheNextToAnotherZone()
    {
        SiloLoad[] silos = [Silo("a1", 2, zone: "a"), Silo("a2", 2, zone: "a"), Silo("b1", 1.5, zone: "b")];
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly), silos, NoneDraining, new Dictionary<string, string> { ["m:1/0"] = "a1" });
        Assert.Equal(["b1", "a2", "a1"], ranked.Select(r => r.Silo));
    }

    [Fact]
    public void Rank_CostAndLocality_WeighEqualSilos()
    {
        SiloLoad[] silos = [Silo("dear", 2, cost: 10), Silo("cheap", 2, cost: 1), Silo("near", 2, cost: 10, region: "eu")];
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly, region: "eu"), silos, NoneDraining);
        Assert.Equal(["cheap", "near", "dear"], ranked.Select(r => r.Silo));
        Assert.Equal(2 / 1.05, ranked[0].Score, 9);
        Assert.Equal(2 / 1.5 * 1.25, ranked[1].Score, 9);
    }

    [Fact]
    public void Rank_SiloWithSeveralDevices_CountsTheirCapacityTogether()
    {
        var twoDevices =
            Silo("two", 1) with { Devices =
                [.. Silo("two", 1).Devices,
                    new DeviceLoad { Name = "sim:x:1", Kind = "sim:x", Speed = 1, Healthy = true, BusyFraction = 0.5, MemoryTotalBytes = GiB,
                        MemoryFreeBytes = GiB }] };
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly), [Silo("one", 1.4), twoDevices], NoneDraining);
        Assert.Equal(["two", "one"], ranked.Select(r => r.Silo));
        Assert.Equal(1.5, ranked[0].Score, 9);
    }

    [Fact]
    public void Rank_EqualSilos_BreakTiesByName()
    {
        var ranked = ReplicaPlacementScoring.Rank(Request(SimOnly), [Silo("b", 2), Silo("a", 2), Silo("c", 2)], NoneDraining);
        Assert.Equal(["a", "b", "c"], ranked.Select(r => r.Silo));
    }

    private static PlacementRequest Request(ModelConfig config, long memory = 0, string region = "") => new("m", 1, config, memory, region);

    private static SiloLoad Silo(string name, double speed, double busy = 0, string kind = "sim:x", long freeBytes = 16 * GiB, string? zone = null,
        double cost = 0, string? region = null)
    {
        var metadata = new Dictionary<string, string>();
        if (zone is not null)
        {
            metadata["zone"] = zone;
        }

        if (region is not null)
        {
            metadata["region"] = region;
        }

        metadata["cost_per_hour"] = cost.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new SiloLoad
        {
            Silo = name,
            Metadata = metadata,
            Devices =
            [
                new DeviceLoad { Name = "cpu:0", Kind = "cpu", Healthy = true, MemoryTotalBytes = 64 * GiB, MemoryFreeBytes = 64 * GiB },
                new DeviceLoad { Name = kind == "cpu" ? "cpu:1" : $"{kind}:0", Kind = kind, Speed = speed, Healthy = true, BusyFraction = busy,
                    MemoryTotalBytes = 16 * GiB, MemoryFreeBytes = freeBytes },
            ],
        };
    }
}
