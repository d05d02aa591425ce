namespace Cluster.Grains.Tests.Placement;

/// <summary>
/// Replicas crowded onto one silo spread to a silo that holds none: here two replicas placed while only silo
/// <c>a</c> ran, then silo <c>b</c> joins. The autoscaler places a replacement on <c>b</c>, warms it, and retires
/// one of <c>a</c>'s, under load, with no failed request.
/// </summary>
[Collection(SpeedTierCollection.Name)]
public sealed class ReplicaSpreadTests
{
    private const string Model = "spread";

    [Fact]
    public async Task ReplicasCrowdedOnOneSilo_SpreadToASiloThatJoins_WithNoFailedRequest()
    {
        await using var cluster = await InProcessCluster.StartAsync(["a"], perSilo: _ => SpeedTierCluster.SimDevice(1));
        await SpeedTierCluster.AddModelAsync(cluster, Model, minReplicas: 2, maxReplicas: 2);
        await SpeedTierCluster.WaitForReplicasAsync(cluster, Model, r => r.Count == 2 && r.TrueForAll(x => x.Silo == "a"));
        using var stop = new CancellationTokenSource();
        var load = SpeedTierCluster.ClosedLoopAsync(cluster.Connection.Inference, Model, callers: 4, stop.Token);

        await cluster.AddSiloAsync("b", SpeedTierCluster.SimDevice(1));
        var spread = await SpeedTierCluster.WaitForReplicasAsync(cluster, Model, r => r.Count == 2 && r.Select(x => x.Silo).Distinct().Count() == 2);
        await Task.Delay(1000);
        await stop.CancelAsync();
        var (succeeded, failures) = await load;

        Assert.Equal(["a", "b"], spread.Select(r => r.Silo).Order(StringComparer.Ordinal));
        Assert.Empty(failures);
        Assert.True(succeeded > 50, $"{succeeded} requests succeeded");

        // Settled: two replicas, one per silo, and no further moves.
        await Task.Delay(3000);
        Assert.Equal(spread, await SpeedTierCluster.ReplicasAsync(cluster, Model));
    }
}
