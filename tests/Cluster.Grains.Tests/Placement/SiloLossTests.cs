using Cluster.Client;

namespace Cluster.Grains.Tests.Placement;

[Collection(SpeedTierCollection.Name)]
public sealed class SiloLossTests
{
    /// <summary>
    /// The load comes through s1's gateway only: a request in flight through a gateway that stops can be lost
    /// with no answer (Orleans reports a timeout after 30 s) and may have run, so it is rightly not retried;
    /// that is the client's connection failing, not a replica.
    /// </summary>
    [Fact]
    public async Task StoppingASilo_ReplacesItsReplicas_AndLosesNoRequest()
    {
        await using var cluster = await SpeedTierCluster.StartAsync(withCpuOnlySilo: false);
        await SpeedTierCluster.AddModelAsync(cluster, "survivor", minReplicas: 3, maxReplicas: 3);
        await SpeedTierCluster.WaitForReplicasAsync(cluster, "survivor", r => r.Count == 3);
        await using var viaS1 =
            await ClusterConnection.ConnectAsync(new ClusterConnectionOptions { ClusterId = cluster.ClusterId, Gateways = [cluster.Gateways[0]] });
        using var stop = new CancellationTokenSource();
        var load = SpeedTierCluster.ClosedLoopAsync(viaS1.Inference, "survivor", callers: 12, stop.Token);
        await Task.Delay(1000);

        await cluster.Silos[2].StopAsync();
        var after = await SpeedTierCluster.WaitForReplicasAsync(cluster, "survivor", r => r.Count == 3 && r.TrueForAll(x => x.Silo != "s4"));
        await Task.Delay(1000);
        await stop.CancelAsync();
        var (succeeded, failures) = await load;

        Assert.Empty(failures);
        Assert.True(succeeded > 100, $"{succeeded} requests succeeded");
        // Where the three land depends on how busy s1 and s2 are at that moment; none is on the stopped silo.
        Assert.All(after, r => Assert.Contains(r.Silo, new[] { "s1", "s2" }));
    }
}
