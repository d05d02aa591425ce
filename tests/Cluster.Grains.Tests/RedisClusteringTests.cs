using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests;

/// <summary>A real redis-server process, two silos clustering through it, and a client finding them through it.</summary>
public sealed class RedisClusteringTests
{
    [Fact]
    public async Task TwoSilosThroughRedis_ServeRequestsAndPinDevices()
    {
        using var redis = await RedisServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync(["redis-a", "redis-b"], redis: redis.ConnectionString);

        foreach (var silo in new[] { "redis-a", "redis-b" })
        {
            var status = await cluster.Client.GetDeviceStatusAsync($"{silo}/cpu:0");
            Assert.Equal(silo, status.HostSilo);
        }

        var response = await cluster.Client.InferAsync("int64_scale", [TensorData.FromInt64("ids", [10, 20], 1, 2)]);
        Assert.Equal([31L, 61L], response.Output("scaled").AsInt64());
    }
}
