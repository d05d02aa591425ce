using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Grains.Drain;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests.Placement;

/// <summary>
/// What went wrong when a whole fleet stopped at once: a silo that is leaving placed replicas on itself (it was the
/// fastest, or the last candidate left), so the replica counts climbed until the process was killed. Two silos with
/// a simulated device each, <c>fast</c> (speed 4) and <c>slow</c> (speed 1); placement runs on <c>fast</c> (the client
/// reaches only its gateway), the way the autoscaler on a leaving silo placed its replacements.
/// </summary>
public sealed class LeavingSiloPlacementTests
{
    private const string Model = "leaving";

    [Fact]
    public async Task ALeavingSilo_NeverPlacesAReplicaOnItself_AndWithEverySiloLeaving_NoReplicaStarts()
    {
        await using var cluster = await InProcessCluster.StartAsync(["fast", "slow"], perSilo: i => SpeedTierCluster.SimDevice(i == 0 ? 4 : 1));
        await WaitForBoardAsync(cluster, "fast", "slow");
        await SpeedTierCluster.AddModelAsync(cluster, Model, minReplicas: 0, maxReplicas: 4);
        await using var throughFast = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
        {
            ClusterId = cluster.ClusterId,
            Gateways = [cluster.Gateways[0]],
        });

        // The operator drains slow, then fast starts stopping (what SIGTERM does first) before any silo hears of it: the
        // only silo not draining is fast itself, yet a draining silo that stays is still better than one that goes.
        await throughFast.Admin.SetDrainingAsync("slow", draining: true);
        cluster.Silos[0].Services.GetRequiredService<SiloLeaving>().Begin();
        var placed = await Replica(throughFast, 1).GetStatusAsync();
        Assert.Equal("slow", placed.Silo);

        // slow stops too: no silo may take a replica, and the placement says so rather than falling back on a leaving one.
        var slow = cluster.Silos[1].Services.GetRequiredService<ILocalSiloDetails>();
        await throughFast.Admin.MarkLeavingAsync(slow.Name, slow.SiloAddress);
        var refused = await Assert.ThrowsAsync<ReplicaNotStartedException>(() => Replica(throughFast, 2).GetStatusAsync());
        Assert.Contains("every silo that could host it is shutting down", refused.Message, StringComparison.Ordinal);
    }

    private static IModelBatcherGrain Replica(ClusterConnection connection, int index) =>
        connection.Grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(Model, 1, index).ToString());

    private static async Task WaitForBoardAsync(InProcessCluster cluster, params string[] silos)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!silos.All((await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Select(s => s.Silo).Contains))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{string.Join(", ", silos)} did not all report their load within 30 s.");
            await Task.Delay(100);
        }
    }
}
