using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Telemetry;
using Cluster.Tests.Shared;

namespace Cluster.Inference.Tests.Telemetry;

public sealed class MeasuredThroughputTests
{
    [Fact]
    public void Record_OneBatch_GivesItsItemsPerSecond()
    {
        var throughput = new MeasuredThroughput();
        Assert.Equal(0, throughput.ItemsPerSecond);
        throughput.Record(32, TimeSpan.FromMilliseconds(8));
        Assert.Equal(4000, throughput.ItemsPerSecond, 6);
    }

    [Fact]
    public void Record_FasterBatches_MoveTheFigureTowardsTheNewRate()
    {
        var throughput = new MeasuredThroughput();
        throughput.Record(10, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 200; i++)
        {
            throughput.Record(100, TimeSpan.FromSeconds(1));
        }

        Assert.InRange(throughput.ItemsPerSecond, 99.99, 100);
    }

    [Fact]
    public void Board_OnDevice_ListsOnlyThatDevicesMeasuredModels()
    {
        var board = new ThroughputBoard();
        board.For("cpu:0", "a", 1).Record(50, TimeSpan.FromSeconds(1));
        board.For("cpu:0", "b", 2);
        board.For("cuda:0", "a", 1).Record(500, TimeSpan.FromSeconds(1));
        Assert.Equal(new Dictionary<string, double> { ["a:1"] = 50 }, board.OnDevice("cpu:0"));
        board.Remove("cuda:0", "a", 1);
        Assert.Equal(0, board.ItemsPerSecond("cuda:0", "a", 1));
    }

    [Fact]
    public async Task InstancePool_WarmupAndBatches_AreMeasured()
    {
        var file = Path.Combine(RepositoryPaths.Models, "tiny_classifier", "1", "model.onnx");
        var features = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
        var throughput = new MeasuredThroughput();
        using var pool = await ModelInstancePool.CreateAsync(
            "cpu:0", 1, () => new OnnxRuntimeModel(file, DeviceDescriptor.Cpu), [new WarmupRequest("w", [features], 3)], ["probabilities"],
                throughput: throughput);
        var afterWarmup = throughput.ItemsPerSecond;
        Assert.True(afterWarmup > 0, "the warm-up runs after the first are measured");

        await pool.RunAsync([[features], [features], [features], [features]], ["probabilities"], Timeout.InfiniteTimeSpan);
        Assert.NotEqual(afterWarmup, throughput.ItemsPerSecond);
    }
}
