using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Tests.Shared;

namespace Cluster.Inference.Tests.Execution;

/// <summary>Several requests run as one ONNX Runtime batch give each request exactly what it gets alone.</summary>
public sealed class BatchRunTests
{
    private static readonly DeviceDescriptor Cpu = DeviceDescriptor.Cpu;

    [Fact]
    public void RunBatch_RequestsOfDifferentBatchSizes_EachGetsItsOwnRows()
    {
        using var model = new OnnxRuntimeModel(Path.Combine(RepositoryPaths.Models, "tiny_classifier", "1", "model.onnx"), Cpu);
        TensorData[][] requests =
        [
            [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)],
            [TensorData.FromFloat32("features", [0f, -1f, 2f, 0.5f, 3f, 3f, 3f, 3f], 2, 4)],
            [TensorData.FromFloat32("features", [9f, 8f, 7f, 6f], 1, 4)],
        ];

        var batched = model.RunBatch(requests, ["probabilities"]);

        Assert.Equal(3, batched.Outputs.Length);
        for (var r = 0; r < requests.Length; r++)
        {
            var alone = model.Run(requests[r], ["probabilities"])[0];
            Assert.Equal(alone.Shape, batched.Outputs[r][0].Shape);
            Assert.Equal(alone.AsFloat32(), batched.Outputs[r][0].AsFloat32());
        }

        Assert.True(batched.Timings.InferNanoseconds > 0);
    }

    [Fact]
    public void RunBatch_StringAndFixedSizeTensors_SplitPerRequest()
    {
        using var model = new OnnxRuntimeModel(Path.Combine(RepositoryPaths.Models, "type_zoo", "1", "model.onnx"), Cpu);
        TensorData[] Request(string a, string b, int count) =>
        [
            TensorData.FromFloat16("halves", [(Half)count, (Half)1], 1, 2),
            TensorData.FromBool("flags", [true, false], 1, 2),
            TensorData.FromUInt8("pixels", [(byte)count, 0], 1, 2),
            TensorData.FromInt32("counts", [count, count], 1, 2),
            TensorData.FromStrings("text", [a, b], 1, 2),
        ];

        var batched = model.RunBatch([Request("a", "bb", 1), Request("ccc", "", 2)], ["counts_plus_one", "text_echo"]);

        Assert.Equal([2, 2], batched.Outputs[0][0].AsInt32());
        Assert.Equal([3, 3], batched.Outputs[1][0].AsInt32());
        Assert.Equal(["a", "bb"], batched.Outputs[0][1].AsStrings());
        Assert.Equal(["ccc", ""], batched.Outputs[1][1].AsStrings());
        Assert.Equal([1L, 2L], batched.Outputs[1][1].Shape);
    }

    [Fact]
    public async Task InstancePool_FailingRequiredWarmup_ThrowsAndLoadsNothing()
    {
        var warmups = new[] { new WarmupRequest("bad", [TensorData.FromFloat32("features", [1f, 2f, 3f], 1, 3)], 1) };
        var file = Path.Combine(RepositoryPaths.Models, "tiny_classifier", "1", "model.onnx");
        await Assert.ThrowsAsync<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() =>
            ModelInstancePool.CreateAsync("cpu:0", 1, () => new OnnxRuntimeModel(file, Cpu), warmups, ["probabilities"]));
    }

    [Fact]
    public async Task InstancePool_DefaultWarmupFailure_IsReportedNotFatal()
    {
        var warmups = new[] { new WarmupRequest("default", [TensorData.FromFloat32("features", [1f, 2f, 3f], 1, 3)], 1, Required: false) };
        var file = Path.Combine(RepositoryPaths.Models, "tiny_classifier", "1", "model.onnx");
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 2, () => new OnnxRuntimeModel(file, Cpu), warmups, ["probabilities"]);
        Assert.Equal(2, pool.Count);
        Assert.Equal(2, pool.SkippedWarmups.Count);
        Assert.StartsWith("default: ", pool.SkippedWarmups[0], StringComparison.Ordinal);
    }
}
