using Cluster.Client.Protocol;
using Grpc.Core;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>Each kind of bad request gets its exact gRPC status and a message naming the model, input and field.</summary>
[Collection(EdgeCollection.Name)]
public sealed class BadRequestTests(EdgeFixture fixture)
{
    public static TheoryData<string, StatusCode, string> Cases => new()
    {
        { "unknown model", StatusCode.NotFound, "Model 'nope' is not in the repository" },
        { "unknown version", StatusCode.NotFound, "Model 'tiny_classifier' has no served version 7" },
        { "non-numeric version", StatusCode.NotFound, "Model 'tiny_classifier' has no version 'latest'" },
        { "wrong datatype", StatusCode.InvalidArgument, "Input 'features' of model 'tiny_classifier' version 1 has datatype INT32; expected FP32." },
        { "unknown datatype", StatusCode.InvalidArgument, "Input 'features' of model 'tiny_classifier': datatype 'FLOAT' is not one of" },
        { "wrong shape", StatusCode.InvalidArgument, "Input 'features' of model 'tiny_classifier' version 1 has shape [1,5]; expected [-1,4]" },
        { "missing input", StatusCode.InvalidArgument, "Input 'b' of model 'two_in_two_out' version 1 is missing (expected b FP32 [-1,4])." },
        { "extra input", StatusCode.InvalidArgument, "Input 'c' is not an input of model 'two_in_two_out' version 1" },
        { "typed count mismatch", StatusCode.InvalidArgument,
            "Input 'features' of model 'tiny_classifier': contents.fp32_contents has 3 values; shape [1,4] needs 4." },
        { "raw size mismatch", StatusCode.InvalidArgument,
            "Input 'features' of model 'tiny_classifier': raw_input_contents has 12 bytes; shape [1,4] of FP32 needs 16." },
        { "mixed raw and typed", StatusCode.InvalidArgument,
            "Input 'features' of model 'tiny_classifier': a request must not mix raw_input_contents with typed contents." },
        { "oversized shape", StatusCode.InvalidArgument,
            "Input 'features' of model 'tiny_classifier': shape [100000,100000] claims more than the limit of 4096 elements per tensor." },
        { "negative dimension", StatusCode.InvalidArgument, "Input 'features' of model 'tiny_classifier': shape [-1,4] has a negative dimension." },
        { "batch over max_batch_size", StatusCode.InvalidArgument, "has batch size 9, over the model's max_batch_size 8." },
        { "unknown requested output", StatusCode.InvalidArgument, "Requested output 'logits' is not an output of model 'tiny_classifier' version 1" },
        { "missing model name", StatusCode.InvalidArgument, "model_name is required." },
        { "failed model", StatusCode.Unavailable, "Model 'broken' version 1 cannot be served: ONNX Runtime cannot load" },
        { "sequence parameter", StatusCode.InvalidArgument, "parameter 'sequence_id' asks for sequence batching" },
        { "timeout too long", StatusCode.InvalidArgument, "parameter 'timeout' is 9223372036854775807 µs, above the maximum of 86400000000 (24 h)." },
        { "bytes shape without data", StatusCode.InvalidArgument,
            "Input 'text' of model 'type_zoo': raw BYTES contents have 0 bytes, too few for 4096 length-prefixed elements." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ModelInfer_BadRequest_ExactStatusAndMessage(string @case, StatusCode status, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(Request(@case), Key()).ResponseAsync);
        Assert.Equal(status, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInfer_MessageOverLimit_ResourceExhausted()
    {
        var request = Request("valid");
        request.Parameters["padding"] = new InferParameter { StringParam = new string('x', MaxMessageBytes + 1) };
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(request, Key()).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task ModelInfer_NoKey_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(Request("valid")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("An API key is required: send 'authorization: Bearer <key>'.", error.Status.Detail);
    }

    [Fact]
    public async Task ModelInfer_InvalidKey_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(Request("valid"), Key("not-a-key")).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("The API key is not valid.", error.Status.Detail);
    }

    [Fact]
    public async Task AdminRpcs_WithInferKey_PermissionDenied()
    {
        var statistics =
            await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelStatisticsAsync(new ModelStatisticsRequest(), Key(InferKey)).ResponseAsync);
        var unload = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "tiny_classifier" }, Key(InferKey)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, statistics.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, unload.StatusCode);
        Assert.Equal("The API key lacks the 'admin' scope this call needs.", unload.Status.Detail);
        Assert.True((await fixture.Grpc.ModelInferAsync(Request("valid"), Key(InferKey))).Outputs.Count == 1);
    }

    private static ModelInferRequest Request(string @case)
    {
        var request = new ModelInferRequest { ModelName = "tiny_classifier" };
        var features = Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f]));
        switch (@case)
        {
            case "unknown model": request.ModelName = "nope"; break;
            case "unknown version": request.ModelVersion = "7"; break;
            case "non-numeric version": request.ModelVersion = "latest"; break;
            case "wrong datatype": features = Input("features", "INT32", [1, 4], c => c.IntContents.Add([1, 2, 3, 4])); break;
            case "unknown datatype": features.Datatype = "FLOAT"; break;
            case "wrong shape": features = Input("features", "FP32", [1, 5], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f, 5f])); break;
            case "typed count mismatch": features = Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f])); break;
            case "raw size mismatch":
                features = Input("features", "FP32", [1, 4]);
                request.RawInputContents.Add(Raw([1f, 2f, 3f]));
                break;
            case "mixed raw and typed": request.RawInputContents.Add(Raw([1f, 2f, 3f, 4f])); break;
            case "oversized shape": features = Input("features", "FP32", [100000, 100000]); break;
            case "negative dimension": features = Input("features", "FP32", [-1, 4]); break;
            case "batch over max_batch_size": features = Input("features", "FP32", [9, 4], c => c.Fp32Contents.Add(new float[36])); break;
            case "unknown requested output": request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "logits" }); break;
            case "missing model name": request.ModelName = ""; break;
            case "failed model": request.ModelName = "broken"; break;
            case "sequence parameter": request.Parameters["sequence_id"] = new InferParameter { Int64Param = 42 }; break;
            case "timeout too long": request.Parameters["timeout"] = new InferParameter { Int64Param = long.MaxValue }; break;
            case "bytes shape without data":
                request.ModelName = "type_zoo";
                features = Input("text", "BYTES", [1, 4096]);
                request.RawInputContents.Add(Google.Protobuf.ByteString.Empty);
                break;
            case "missing input" or "extra input":
                request.ModelName = "two_in_two_out";
                features = Input("a", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f]));
                if (@case == "extra input")
                {
                    request.Inputs.Add(Input("b", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f])));
                    request.Inputs.Add(Input("c", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f])));
                }

                break;
            default:
                break;
        }

        request.Inputs.Insert(0, features);
        return request;
    }
}
