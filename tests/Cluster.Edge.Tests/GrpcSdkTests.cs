using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;

namespace Cluster.Edge.Tests;

/// <summary>The SDK's InferenceClient over the gRPC edge behaves as it does over grain calls.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GrpcSdkTests(EdgeFixture fixture)
{
    private InferenceClient Client => InferenceClient.ForGrpc(fixture.Channel, EdgeFixture.AdminKey);

    [Fact]
    public async Task InferAsync_SameOutputsAsGrainCalls()
    {
        TensorData[] inputs = [TensorData.FromFloat32("features", [0.5f, -1f, 2f, 3f], 1, 4)];
        var overGrpc = await Client.InferAsync("tiny_classifier", inputs, id: "sdk-grpc");
        var overGrains = await fixture.Cluster.Client.InferAsync("tiny_classifier", inputs);
        Assert.Equal(("tiny_classifier", 1L, "sdk-grpc"), (overGrpc.Model, overGrpc.Version, overGrpc.Id));
        Assert.Equal(overGrains.Output("probabilities").AsFloat32(), overGrpc.Output("probabilities").AsFloat32());
        Assert.Equal([1L, 3L], overGrpc.Output("probabilities").Shape);
    }

    [Fact]
    public async Task InferAsync_StringsTravelRaw()
    {
        var response = await Client.InferAsync("type_zoo",
        [
            TensorData.FromFloat16("halves", [(Half)1, (Half)2], 1, 2),
            TensorData.FromBool("flags", [true, true], 1, 2),
            TensorData.FromUInt8("pixels", [1, 2], 1, 2),
            TensorData.FromInt32("counts", [1, 2], 1, 2),
            TensorData.FromStrings("text", ["über", "x"], 1, 2),
        ]);
        Assert.Equal(["über", "x"], response.Output("text_echo").AsStrings());
        Assert.Equal([1f, 2f], response.Output("halves_as_float").AsFloat32());
    }

    [Fact]
    public async Task Errors_ComeBackTyped()
    {
        await Assert.ThrowsAsync<ModelNotFoundException>(() => Client.InferAsync("nope", []));
        var shape = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 2f], 1, 2)]));
        Assert.Contains("has shape [1,2]; expected [-1,4]", shape.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(() => Client.GetDeviceStatusAsync("edge/cpu:0"));
    }

    [Fact]
    public async Task StatisticsAndModels_OverGrpc()
    {
        await Client.InferAsync("int64_scale", [TensorData.FromInt64("ids", [1], 1, 1)]);
        var statistics = await Client.GetStatisticsAsync("int64_scale");
        Assert.True(statistics.Success.Count >= 1);
        var models = await Client.GetModelsAsync();
        Assert.Equal("features FP32 [-1,4]", models.Single(m => m.Name == "tiny_classifier").Versions[0].Inputs[0].ToString());
        Assert.False(models.Single(m => m.Name == "broken").Versions[0].IsLoadable);
    }
}
