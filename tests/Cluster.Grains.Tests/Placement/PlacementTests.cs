namespace Cluster.Grains.Tests.Placement;

/// <summary>Silos s1, s2, s4 (simulated devices of speed 1, 2, 4) and a CPU-only silo, shared by the tests of one class.</summary>
public sealed class SpeedTierFixture : IAsyncLifetime
{
    public InProcessCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await SpeedTierCluster.StartAsync(withCpuOnlySilo: true);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[Collection(SpeedTierCollection.Name)]
public sealed class PlacementTests(SpeedTierFixture fixture) : IClassFixture<SpeedTierFixture>
{
    private InProcessCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task MinReplicas_LandByCapacity_AndNeverOnTheCpuOnlySilo()
    {
        await SpeedTierCluster.WaitForIdleDevicesAsync(Cluster);
        await SpeedTierCluster.AddModelAsync(Cluster, "spread", minReplicas: 4, maxReplicas: 4);
        var replicas = await SpeedTierCluster.WaitForReplicasAsync(Cluster, "spread", r => r.Count == 4);

        // One on each silo able to host it, and the fourth where the most capacity is.
        Assert.Equal(["s1", "s2", "s4", "s4"], replicas.Select(r => r.Silo).Order());
    }

    [Fact]
    public async Task SteadyLoad_SplitsWorkInProportionToSpeed()
    {
        await SpeedTierCluster.WaitForIdleDevicesAsync(Cluster);
        await SpeedTierCluster.AddModelAsync(Cluster, "steady", minReplicas: 3, maxReplicas: 3);
        // Replicas activated together from different silos may first land two on one silo; the autoscaler spreads them.
        var replicas = await SpeedTierCluster.WaitForReplicasAsync(Cluster, "steady", r => r.Count == 3 && r.DistinctBy(x => x.Silo).Count() == 3);
        Assert.Equal(["s1", "s2", "s4"], replicas.Select(r => r.Silo).Order());
        await Task.Delay(1000);
        var before = await SpeedTierCluster.SuccessesAsync(Cluster, replicas.Select(r => r.Key));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var (succeeded, failures) = await SpeedTierCluster.ClosedLoopAsync(Cluster.Client, "steady", callers: 84, stop.Token);
        var after = await SpeedTierCluster.SuccessesAsync(Cluster, replicas.Select(r => r.Key));

        Assert.Empty(failures);
        var total = (double)after.Sum(a => a.Value - before[a.Key]);
        var share = replicas.ToDictionary(r => r.Silo, r => (after[r.Key] - before[r.Key]) / total);
        var summary = string.Join(", ", share.Select(s => $"{s.Key} {s.Value:P1}"));
        Assert.True(total > 0.9 * succeeded, summary);
        // Within ±15 % of the speed shares (round robin would give each a third).
        Assert.True(Within(share["s4"], 4 / 7.0) && Within(share["s2"], 2 / 7.0) && Within(share["s1"], 1 / 7.0), summary);
    }

    [Fact]
    public async Task Autoscaler_AddsReplicasUnderLoad_AndReturnsToMinWhenIdle()
    {
        await SpeedTierCluster.AddModelAsync(
            Cluster, "elastic", minReplicas: 1, maxReplicas: 3,
                autoscaling: """{"target_queue_per_replica": 2, "upscale_delay_s": 0.5, "downscale_delay_s": 1}""");
        await SpeedTierCluster.WaitForReplicasAsync(Cluster, "elastic", r => r.Count == 1);
        using var stop = new CancellationTokenSource();
        var load = SpeedTierCluster.ClosedLoopAsync(Cluster.Client, "elastic", callers: 16, stop.Token);

        var scaled = await SpeedTierCluster.WaitForReplicasAsync(Cluster, "elastic", r => r.Count == 3);
        await stop.CancelAsync();
        var (succeeded, failures) = await load;
        var idle = await SpeedTierCluster.WaitForReplicasAsync(Cluster, "elastic", r => r.Count == 1);

        Assert.Empty(failures);
        Assert.True(succeeded > 0);
        Assert.Equal(3, scaled.Select(r => r.Silo).Distinct().Count());
        Assert.Single(idle);
    }

    [Fact]
    public async Task Drain_MovesReplicasAway_WithNoFailedRequest()
    {
        // Placement weighs each device's recent busy fraction: a load left by the test before would decide where the replicas go.
        await SpeedTierCluster.WaitForIdleDevicesAsync(Cluster);
        await SpeedTierCluster.AddModelAsync(Cluster, "drained", minReplicas: 2, maxReplicas: 2);
        var before = await SpeedTierCluster.WaitForReplicasAsync(Cluster, "drained", r => r.Count == 2);
        Assert.Contains(before, r => r.Silo == "s4");
        using var stop = new CancellationTokenSource();
        var load = SpeedTierCluster.ClosedLoopAsync(Cluster.Client, "drained", callers: 8, stop.Token);
        await Task.Delay(1000);
        await Cluster.Connection.Admin.SetDrainingAsync("s4", draining: true);
        try
        {
            // A replacement placed while the other replica's device is busy may share a silo with it for a moment; the autoscaler spreads them.
            var after = await SpeedTierCluster.WaitForReplicasAsync(
                Cluster, "drained", r => r.Count == 2 && r.TrueForAll(x => x.Silo != "s4") && r.DistinctBy(x => x.Silo).Count() == 2);
            await Task.Delay(1000);
            await stop.CancelAsync();
            var (succeeded, failures) = await load;
            Assert.Empty(failures);
            Assert.True(succeeded > 100, $"{succeeded} requests succeeded");
            Assert.True(after.Select(r => r.Silo).Order().SequenceEqual(["s1", "s2"]),
                $"replicas on {string.Join(", ", before.Select(r => r.Silo))} before the drain, on {string.Join(", ", after.Select(r => r.Silo))} after");
        }
        finally
        {
            await Cluster.Connection.Admin.SetDrainingAsync("s4", draining: false);
        }
    }

    private static bool Within(double share, double expected) => Math.Abs(share - expected) <= 0.15 * expected;
}
