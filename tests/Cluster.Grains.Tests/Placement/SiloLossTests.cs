namespace Cluster.Grains.Tests.Placement;

public sealed class SiloLossTests
{
    [Fact]
    public async Task StoppingASilo_ReplacesItsReplicas_AndLosesNoRequest()
    {
        await using var cluster = await SpeedTierCluster.StartAsync(withCpuOnlySilo: false);
        await SpeedTierCluster.AddModelAsync(cluster, "survivor", minReplicas: 3, maxReplicas: 3);
        await SpeedTierCluster.WaitForReplicasAsync(cluster, "survivor", r => r.Count == 3);
        using var stop = new CancellationTokenSource();
        var load = SpeedTierCluster.ClosedLoopAsync(cluster, "survivor", callers: 12, stop.Token);
        await Task.Delay(1000);

        await cluster.Silos[2].StopAsync();
        var after = await SpeedTierCluster.WaitForReplicasAsync(cluster, "survivor", r => r.Count == 3 && r.TrueForAll(x => x.Silo != "s4"));
        await Task.Delay(1000);
        await stop.CancelAsync();
        var (succeeded, failures) = await load;

        Assert.Empty(failures);
        Assert.True(succeeded > 100, $"{succeeded} requests succeeded");
        Assert.Equal(["s1", "s2", "s2"], after.Select(r => r.Silo).Order());
    }
}
