using Cluster.Contracts.Grains;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests;

/// <summary>A version folder holding an INT8 file beside model.onnx: a CPU device loads the INT8 one and says so.</summary>
public sealed class VariantLoadTests
{
    [Fact]
    public async Task LoadModel_CpuAndInt8FilePresent_LoadsTheInt8VariantAndReportsIt()
    {
        await using var cluster = await InProcessCluster.StartAsync(["variants"], prepareRepository: AddInt8File);
        var device = cluster.Connection.Grains.GetGrain<IDeviceGrain>("variants/cpu:0");

        Assert.Equal("int8", await device.LoadModelAsync("tiny_classifier", 1, "tiny_classifier/1/0"));
        Assert.Equal("int8", (await cluster.Client.GetDeviceStatusAsync("variants/cpu:0")).Variants["tiny_classifier:1"]);
        var result = await device.RunBatchAsync("tiny_classifier", 1, [[TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)]], ["probabilities"]);
        Assert.Equal([1L, 3L], result.Outputs[0][0].Shape);
    }

    /// <summary>The demo classifier's FP32 file copied as its INT8 variant: same graph, so the variant's load and run are what is checked.</summary>
    private static void AddInt8File(string repository)
    {
        var folder = Path.Combine(repository, "tiny_classifier", "1");
        File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, "model.int8.onnx"));
    }
}
