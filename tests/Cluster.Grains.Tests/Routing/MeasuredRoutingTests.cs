using Cluster.Client.Routing;
using Cluster.Contracts.Load;

namespace Cluster.Grains.Tests.Routing;

/// <summary>Measured throughput, once every replica of a version has one, replaces the configured speed as the routing weight.</summary>
public sealed class MeasuredRoutingTests
{
    [Fact]
    public void From_AllReplicasMeasured_WeighsByMeasuredCapacityOnTheConfiguredScale()
    {
        var (replicas, _) = ReplicaTable.From(Load(("m:1/0", 4, 100), ("m:1/1", 1, 300))).Of("m", 1);

        // Measured 1 : 3, scaled to the configured total of 5.
        Assert.Equal([1.25, 3.75], replicas.Select(r => r.Capacity));
    }

    [Fact]
    public void From_OneReplicaUnmeasured_KeepsConfiguredSpeeds()
    {
        var (replicas, _) = ReplicaTable.From(Load(("m:1/0", 4, 100), ("m:1/1", 1, 0))).Of("m", 1);
        Assert.Equal([4.0, 1.0], replicas.Select(r => r.Capacity));
    }

    [Fact]
    public void Choose_MeasuredFasterReplica_TakesMostRequestsDespiteALowerConfiguredSpeed()
    {
        using var router = new ReplicaRouter();
        router.Update(ReplicaTable.From(Load(("m:1/0", 4, 100), ("m:1/1", 1, 400))));
        var toMeasuredFaster = Enumerable.Range(0, 1000).Count(_ => router.Choose("m", 1)!.Key == "m:1/1");
        Assert.Equal(1000, toMeasuredFaster);
    }

    private static ClusterLoad Load(params (string Key, double Capacity, double Measured)[] replicas) => new()
    {
        Silos =
        [
            new SiloLoad
            {
                Silo = "s",
                Replicas = [.. replicas.Select(r =>
                    new ReplicaLoad { Key = r.Key, Model = "m", Version = 1, Capacity = r.Capacity, MeasuredCapacity = r.Measured, Accepting = true })],
            },
        ],
    };
}
