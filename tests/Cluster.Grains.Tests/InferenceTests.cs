using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;

namespace Cluster.Grains.Tests;

[Collection(TwoSiloCollection.Name)]
public sealed class InferenceTests(TwoSiloFixture fixture)
{
    private InProcessCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task InferAsync_TinyClassifier_EqualsDirectOnnxRuntimeRun()
    {
        var input = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f, 0.5f, -1f, 0f, 2f], 2, 4);
        var response = await Cluster.Client.InferAsync("tiny_classifier", [input], id: "req-1");

        using var direct = new OnnxRuntimeModel(Path.Combine(Cluster.ModelRepository, "tiny_classifier", "1", "model.onnx"), DeviceDescriptor.Cpu);
        var expected = direct.Run([input], ["probabilities"])[0];
        Assert.Equal(("tiny_classifier", 1L, "req-1"), (response.Model, response.Version, response.Id));
        var output = response.Output("probabilities");
        Assert.Equal(expected.Shape, output.Shape);
        Assert.Equal(expected.AsFloat32(), output.AsFloat32());
    }

    [Fact]
    public async Task InferAsync_RequestedOutput_ReturnsOnlyThat()
    {
        var response = await Cluster.Client.InferAsync(
            "two_in_two_out",
            [TensorData.FromFloat32("a", [1f, 2f, 3f, 4f], 1, 4), TensorData.FromFloat32("b", [2f, 2f, 2f, 2f], 1, 4)],
            outputs: ["product"]);
        var output = Assert.Single(response.Outputs);
        Assert.Equal("product", output.Name);
        Assert.Equal([2f, 4f, 6f, 8f], output.AsFloat32());
    }

    [Fact]
    public async Task InferAsync_StringsAndInt64_RoundTrip()
    {
        var ids = await Cluster.Client.InferAsync("int64_scale", [TensorData.FromInt64("ids", [1, 2, 3], 1, 3)]);
        Assert.Equal([4L, 7L, 10L], ids.Output("scaled").AsInt64());

        var zoo = await Cluster.Client.InferAsync("type_zoo",
        [
            TensorData.FromFloat16("halves", [(Half)1, (Half)2], 1, 2),
            TensorData.FromBool("flags", [false, true], 1, 2),
            TensorData.FromUInt8("pixels", [3, 4], 1, 2),
            TensorData.FromInt32("counts", [5, 6], 1, 2),
            TensorData.FromStrings("text", ["grüße", "🙂"], 1, 2),
        ]);
        Assert.Equal(["grüße", "🙂"], zoo.Output("text_echo").AsStrings());
        Assert.Equal([true, false], zoo.Output("flags_inverted").AsBool());
    }

    [Fact]
    public async Task InferAsync_UnknownModel_ThrowsListingModels()
    {
        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => Cluster.Client.InferAsync("nope", []));
        Assert.StartsWith(
            "Model 'nope' is not in the repository; models: broken, int64_preferred_2, int64_scale, int64_traced, tiny_bad_warmup, tiny_classifier, ",
                error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InferAsync_UnknownVersion_ThrowsListingServedVersions()
    {
        var error = await Assert.ThrowsAsync<ModelNotFoundException>(() => Cluster.Client.InferAsync("tiny_classifier", [], version: 9));
        Assert.Equal("Model 'tiny_classifier' has no served version 9; served versions: 1.", error.Message);
    }

    [Fact]
    public async Task InferAsync_PathInModelName_RejectedAsInvalid()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Cluster.Client.InferAsync("../tiny_classifier", []));
        Assert.StartsWith("Model name '../tiny_classifier' is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InferAsync_WrongShape_NamesInputExpectedAndGiven()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 2f, 3f], 1, 3)]));
        Assert.Equal("Input 'features' of model 'tiny_classifier' version 1 has shape [1,3]; expected [-1,4] (-1 = any size).", error.Message);
    }

    [Fact]
    public async Task CorruptModel_ReportedFailed_OthersKeepServing()
    {
        var models = await Cluster.Client.GetModelsAsync();
        var broken = models.Single(m => m.Name == "broken").Versions.Single();
        Assert.Contains("ONNX Runtime cannot load", broken.Error, StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => Cluster.Client.InferAsync("broken", []));
        Assert.StartsWith("Model 'broken' version 1 cannot be served: ONNX Runtime cannot load", error.Message, StringComparison.Ordinal);

        var response = await Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 1f, 1f, 1f], 1, 4)]);
        Assert.Equal(3, response.Output("probabilities").AsFloat32().Length);
    }
}
