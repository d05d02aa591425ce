using System.Diagnostics;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests;

/// <summary>A real redis-server process, two silos clustering through it, and a client finding them through it.</summary>
public sealed class RedisClusteringTests
{
    /// <summary>How long Redis stays down under load (the 20 s, longer than several membership probe rounds and table refreshes).</summary>
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(20);

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

    [Fact]
    public async Task RedisStopsUnderLoad_SilosKeepServing_NewSiloJoinsOnceItIsBack()
    {
        using var redis = await RedisServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync(["outage-a", "outage-b"], redis: redis.ConnectionString);
        var input = TensorData.FromInt64("ids", [10, 20], 1, 2);
        await cluster.Client.InferAsync("int64_scale", [input]);

        using var stop = new CancellationTokenSource();
        var (succeeded, failed) = (0, new List<string>());
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await cluster.Client.InferAsync("int64_scale", [input]);
                    succeeded++;
                }
                catch (Exception e)
                {
                    failed.Add(e.Message);
                }

                await Task.Delay(20);
            }
        });

        await redis.StopAsync();
        await Task.Delay(OutageLength);
        var duringOutage = succeeded;
        await redis.RestartAsync();
        await cluster.AddSiloAsync("outage-c");
        await WaitForSiloAsync(cluster, "outage-c");
        await stop.CancelAsync();
        await load;

        Assert.Empty(failed);
        Assert.True(duringOutage > 200, $"Only {duringOutage} requests were served while Redis was down.");
    }

    private static async Task WaitForSiloAsync(InProcessCluster cluster, string silo)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Assert.Equal(silo, (await cluster.Client.GetDeviceStatusAsync($"{silo}/cpu:0")).HostSilo);
                return;
            }
            catch (DeviceNotFoundException) when (waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(200);
            }
        }
    }
}
