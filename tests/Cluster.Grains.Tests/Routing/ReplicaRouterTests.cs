using Cluster.Client.Routing;
using Cluster.Contracts.Load;

namespace Cluster.Grains.Tests.Routing;

public sealed class ReplicaRouterTests
{
    [Fact]
    public void Choose_IdleReplicas_FavoursCapacity()
    {
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(Load(("m:1/0", 1, 0), ("m:1/1", 2, 0), ("m:1/2", 4, 0))));
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 70_000; i++)
        {
            var key = router.Choose("m", 1)!.Key;
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        // Each pick draws two distinct replicas by capacity and keeps the one with less load per capacity
        // (here 1/capacity): the 1x replica wins only when drawn twice, which distinct draws rule out.
        Assert.InRange(counts["m:1/2"] / 70_000.0, 0.86, 0.92);
        Assert.False(counts.ContainsKey("m:1/0"));
    }

    [Fact]
    public void Choose_ExperimentArmReplica_NeverTakesTheModelsRequests()
    {
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(Load(("m:1/0", 1, 0), ("m:1@m-1a2b3c4d.fast/0", 100, 0))));

        Assert.All(Enumerable.Range(0, 1000), _ => Assert.Equal("m:1/0", router.Choose("m", 1)!.Key));
        Assert.Equal(1, router.Table.Count);
    }

    [Fact]
    public void Choose_InFlightRequests_SteerToTheLessLoadedReplica()
    {
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(Load(("m:1/0", 1, 0), ("m:1/1", 1, 0))));
        var held = Enumerable.Range(0, 5).Select(_ => router.Track("m:1/0")).ToList();
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal("m:1/1", router.Choose("m", 1)?.Key));
        held.ForEach(h => h.Dispose());
    }

    [Fact]
    public void Choose_ReportedQueue_CountsAsLoad()
    {
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(Load(("m:1/0", 4, 40), ("m:1/1", 1, 0))));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal("m:1/1", router.Choose("m", 1)?.Key));
    }

    [Fact]
    public void Choose_SkipsTriedAndRetiringReplicas_AndReturnsNullWhenNoneIsLeft()
    {
        using var router = new ReplicaRouter();
        var load = Load(("m:1/0", 1, 0), ("m:1/1", 1, 0), ("m:1/2", 1, 0));
        load = load with { Silos = [load.Silos[0] with { Replicas = [load.Silos[0].Replicas[0] with { Accepting = false }, .. load.Silos[0].Replicas[1..]] }] };
        router.Update(ReplicaTable.From(load));
        Assert.Equal("m:1/2", router.Choose("m", 1, ["m:1/1"])?.Key);
        Assert.Null(router.Choose("m", 1, ["m:1/1", "m:1/2"]));
        Assert.Equal("m:1/2", router.Choose("m", 1, ["m:1/0", "m:1/1"])?.Key);
        Assert.Null(router.Choose("m", 2));
    }

    [Fact]
    public async Task WaitForFirstTable_HoldsTheFirstRequestsUntilTheBoardIsRead()
    {
        var board = new TaskCompletionSource<ClusterLoad>();
        using var router = new ReplicaRouter(() => board.Task);
        var waiting = router.WaitForFirstTableAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        board.SetResult(Load(("m:1/0", 1, 0), ("m:1/1", 1, 0)));
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(router.Choose("m", 1));
        Assert.True(router.WaitForFirstTableAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitForFirstTable_ABoardThatFails_DoesNotHoldRequests()
    {
        using var router = new ReplicaRouter(() => Task.FromException<ClusterLoad>(new InvalidOperationException("board moving")));
        await router.WaitForFirstTableAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Null(router.Choose("m", 1));
    }

    [Fact]
    public async Task DeadSilo_CompletesItsWatch_AndItsReplicasAreSkippedUntilASiloOfThatNameIsBack()
    {
        using var router = new ReplicaRouter();
        var twoSilos = new ClusterLoad
        {
            Silos =
            [
                new SiloLoad { Silo = "a", Replicas = [new ReplicaLoad { Key = "m:1/0", Model = "m", Version = 1, Accepting = true }] },
                new SiloLoad { Silo = "b", Replicas = [new ReplicaLoad { Key = "m:1/1", Model = "m", Version = 1, Accepting = true }] },
            ],
        };
        router.Update(ReplicaTable.From(twoSilos));
        Assert.Equal("b", router.Choose("m", 1, ["m:1/0"])?.Silo);
        var watch = router.WhenDead("b");
        Assert.False(watch.IsCompleted);

        // The table is not reread yet (it still lists b's replica), but the death is known.
        router.UpdateDeaths(new ClusterLoad { Silos = [twoSilos.Silos[0]], DeadSilos = ["b"] });
        await watch.WaitAsync(TimeSpan.FromSeconds(1));
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal("m:1/0", router.Choose("m", 1)?.Key));
        Assert.Null(router.Choose("m", 1, ["m:1/0"]));

        router.UpdateDeaths(twoSilos);
        Assert.False(router.WhenDead("b").IsCompleted);
        Assert.Equal("m:1/1", router.Choose("m", 1, ["m:1/0"])?.Key);
    }

    [Fact]
    public async Task ReplicaListedOnALostSiloAndWhereItWasActivatedAgain_GoesToTheLiveSilo()
    {
        // For a moment the board can hold a lost silo's last report and the replica's new activation elsewhere.
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(new ClusterLoad
        {
            Silos =
            [
                new SiloLoad { Silo = "a", Replicas = [new ReplicaLoad { Key = "m:1/0", Model = "m", Version = 1, Accepting = true }] },
                new SiloLoad { Silo = "b", Replicas = [new ReplicaLoad { Key = "m:1/0", Model = "m", Version = 1, Accepting = true }] },
            ],
        }));
        router.UpdateDeaths(new ClusterLoad { DeadSilos = ["a"] });
        await router.WhenDead("a").WaitAsync(TimeSpan.FromSeconds(1));

        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(new RouteEntry("m:1/0", "b", 1, 0), router.Choose("m", 1)));
    }

    private static ClusterLoad Load(params (string Key, double Capacity, int Queued)[] replicas) => new()
    {
        Silos =
        [
            new SiloLoad
            {
                Silo = "s",
                Replicas = [.. replicas.Select(r =>
                    new ReplicaLoad { Key = r.Key, Model = "m", Version = 1, Capacity = r.Capacity, Queued = r.Queued, Accepting = true })],
            },
        ],
    };
}
