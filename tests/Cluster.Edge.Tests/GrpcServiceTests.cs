using System.Runtime.InteropServices;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using static Cluster.Edge.Tests.EdgeFixture;

namespace Cluster.Edge.Tests;

/// <summary>Every RPC of inference.GRPCInferenceService through stubs compiled from the project's proto.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GrpcServiceTests(EdgeFixture fixture)
{
    private GRPCInferenceService.GRPCInferenceServiceClient Grpc => fixture.Grpc;

    [Fact]
    public async Task HealthRpcs_AnswerWithoutKey()
    {
        Assert.True((await Grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var health = new Health.HealthClient(fixture.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task ModelReady_KnownModelReady_UnknownNot()
    {
        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "tiny_classifier" }, Key())).Ready);
        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "tiny_classifier", Version = "1" }, Key())).Ready);
        Assert.False((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "nope" }, Key())).Ready);
        Assert.False((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "broken" }, Key())).Ready);
    }

    [Fact]
    public async Task ServerAndModelMetadata_DescribeTheModel()
    {
        var server = await Grpc.ServerMetadataAsync(new ServerMetadataRequest(), Key());
        Assert.Equal("cluster-inference", server.Name);
        Assert.Contains("model_repository", server.Extensions);

        var model = await Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = "tiny_classifier" }, Key());
        Assert.Equal(("tiny_classifier", "onnxruntime_onnx"), (model.Name, model.Platform));
        Assert.Equal(["1"], model.Versions);
        var input = Assert.Single(model.Inputs);
        Assert.Equal(("features", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1L, 4L], input.Shape);
        Assert.Equal("probabilities", Assert.Single(model.Outputs).Name);
    }

    [Fact]
    public async Task ModelInfer_TypedContents_AnswersTypedAndEqualsSdk()
    {
        var request = new ModelInferRequest { ModelName = "tiny_classifier", Id = "typed-1" };
        request.Inputs.Add(Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f])));
        var response = await Grpc.ModelInferAsync(request, Key(InferKey));

        var sdk = await fixture.Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)]);
        Assert.Equal(("tiny_classifier", "1", "typed-1"), (response.ModelName, response.ModelVersion, response.Id));
        Assert.Empty(response.RawOutputContents);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("probabilities", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([1L, 3L], output.Shape);
        Assert.Equal(sdk.Output("probabilities").AsFloat32(), output.Contents.Fp32Contents);
    }

    [Fact]
    public async Task ModelInfer_RawInputs_AnswersRawAndFiltersOutputs()
    {
        var request = new ModelInferRequest { ModelName = "two_in_two_out", ModelVersion = "1" };
        request.Inputs.Add(Input("a", "FP32", [1, 4]));
        request.Inputs.Add(Input("b", "FP32", [1, 4]));
        request.RawInputContents.Add(Raw([1f, 2f, 3f, 4f]));
        request.RawInputContents.Add(Raw([2f, 2f, 2f, 2f]));
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" });

        var response = await Grpc.ModelInferAsync(request, Key());

        Assert.Equal("product", Assert.Single(response.Outputs).Name);
        Assert.Equal([2f, 4f, 6f, 8f], MemoryMarshal.Cast<byte, float>(Assert.Single(response.RawOutputContents).Span).ToArray());
    }

    [Fact]
    public async Task ModelInfer_EveryDatatypeOfTheTypeZoo_RawAndTyped()
    {
        var raw = new ModelInferRequest { ModelName = "type_zoo" };
        raw.Inputs.Add(Input("halves", "FP16", [1, 2]));
        raw.Inputs.Add(Input("flags", "BOOL", [1, 2]));
        raw.Inputs.Add(Input("pixels", "UINT8", [1, 2]));
        raw.Inputs.Add(Input("counts", "INT32", [1, 2]));
        raw.Inputs.Add(Input("text", "BYTES", [1, 2]));
        raw.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes<Half>([(Half)1.5f, (Half)(-2f)])));
        raw.RawInputContents.Add(ByteString.CopyFrom([1, 0]));
        raw.RawInputContents.Add(ByteString.CopyFrom([7, 255]));
        raw.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes<int>([41, -1])));
        raw.RawInputContents.Add(ByteString.CopyFrom(TensorData.FromStrings("text", ["héllo", ""], 2).Data));
        var rawResponse = await Grpc.ModelInferAsync(raw, Key());
        Assert.Equal(5, rawResponse.RawOutputContents.Count);
        Assert.Equal([1.5f, -2f], MemoryMarshal.Cast<byte, float>(rawResponse.RawOutputContents[0].Span).ToArray());
        Assert.Equal(["héllo", ""], StringTensorCodec.Decode("text_echo", rawResponse.RawOutputContents[4].Span, 2));

        var typed = new ModelInferRequest { ModelName = "type_zoo" };
        typed.Inputs.Add(Input("flags", "BOOL", [1, 2], c => c.BoolContents.Add([true, false])));
        typed.Inputs.Add(Input("pixels", "UINT8", [1, 2], c => c.UintContents.Add([7u, 255u])));
        typed.Inputs.Add(Input("counts", "INT32", [1, 2], c => c.IntContents.Add([41, -1])));
        typed.Inputs.Add(Input("text", "BYTES", [1, 2], c => c.BytesContents.Add([ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b")])));
        typed.Inputs.Add(Input("halves", "FP16", [1, 2]));
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(typed, Key()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("Input 'halves' of model 'type_zoo': FP16 data travels only in raw_input_contents.", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_PriorityAndTimeoutParameters_Accepted()
    {
        var request = new ModelInferRequest { ModelName = "tiny_classifier" };
        request.Inputs.Add(Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 1f, 1f, 1f])));
        request.Parameters["priority"] = new InferParameter { Uint64Param = 1 };
        request.Parameters["timeout"] = new InferParameter { Int64Param = 5_000_000 };
        var response = await Grpc.ModelInferAsync(request, Key());
        Assert.Equal(3, response.Outputs[0].Contents.Fp32Contents.Count);
    }

    [Fact]
    public async Task ModelStatistics_CountsTheModelsRequests()
    {
        var request = new ModelInferRequest { ModelName = "int64_scale" };
        request.Inputs.Add(Input("ids", "INT64", [1, 3], c => c.Int64Contents.Add([1L, 2L, 3L])));
        for (var i = 0; i < 3; i++)
        {
            await Grpc.ModelInferAsync(request, Key());
        }

        var statistics = Assert.Single((await Grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "int64_scale" }, Key())).ModelStats);
        Assert.Equal(("int64_scale", "1"), (statistics.Name, statistics.Version));
        Assert.True(statistics.InferenceStats.Success.Count >= 3);
        Assert.True(statistics.InferenceCount >= 3);
        Assert.True(statistics.LastInference > 0);
        Assert.NotEmpty(statistics.BatchStats);
    }

    [Fact]
    public async Task RepositoryIndex_ListsEveryVersionWithState()
    {
        var index = await Grpc.RepositoryIndexAsync(new RepositoryIndexRequest(), Key());
        var broken = index.Models.Single(m => m.Name == "broken");
        Assert.Equal("UNAVAILABLE", broken.State);
        Assert.Contains("ONNX Runtime cannot load", broken.Reason, StringComparison.Ordinal);
        Assert.Equal("READY", index.Models.Single(m => m.Name == "wide_mlp").State);
        var ready = await Grpc.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true }, Key());
        Assert.DoesNotContain(ready.Models, m => m.Name == "broken");
    }

    [Fact]
    public async Task RepositoryUnloadThenLoad_ModelStopsThenServesAgain()
    {
        var request = new ModelInferRequest { ModelName = "two_in_two_out" };
        request.Inputs.Add(Input("a", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 1f, 1f, 1f])));
        request.Inputs.Add(Input("b", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 1f, 1f, 1f])));
        await Grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "two_in_two_out" }, Key());
        try
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(request, Key()).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Contains("is unloaded", error.Status.Detail, StringComparison.Ordinal);
            Assert.False((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "two_in_two_out" }, Key())).Ready);
        }
        finally
        {
            await Grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = "two_in_two_out" }, Key());
        }

        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = "two_in_two_out" }, Key())).Ready);
        Assert.Equal(2, (await Grpc.ModelInferAsync(request, Key())).Outputs.Count);
    }

    internal static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, long[] shape, Action<InferTensorContents>? contents = null)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        if (contents is not null)
        {
            input.Contents = new InferTensorContents();
            contents(input.Contents);
        }

        return input;
    }

    internal static ByteString Raw(float[] values) => ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
}
