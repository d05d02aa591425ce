using System.Runtime.InteropServices;
using Cluster.Client.Protocol;
using Cluster.Silo.Edge;
using Google.Protobuf;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>Unary responses are reused once written: nothing of one answer shows in the next.</summary>
[Collection(EdgeCollection.Name)]
public sealed class ReusedResponsesTests(EdgeFixture fixture)
{
    [Fact]
    public void Return_ClearsTheResponseAndItsOutputs()
    {
        var response = new ModelInferResponse { ModelName = "m", ModelVersion = "3", Id = "r-1" };
        response.Parameters["experiment_arm"] = new InferParameter { StringParam = "e.b" };
        var typed = new ModelInferResponse.Types.InferOutputTensor { Name = "y", Datatype = "FP32", Contents = new InferTensorContents() };
        typed.Shape.Add([1, 2]);
        typed.Contents.Fp32Contents.Add([1f, 2f]);
        typed.Parameters["p"] = new InferParameter { BoolParam = true };
        var raw = new ModelInferResponse.Types.InferOutputTensor { Name = "z", Datatype = "INT64" };
        raw.Shape.Add([1]);
        response.Outputs.Add([typed, raw]);
        response.RawOutputContents.Add(ByteString.CopyFrom(new byte[8]));

        ReusedResponses.Return(response);

        Assert.Equal(new ModelInferResponse(), response);
        Assert.Equal(new ModelInferResponse.Types.InferOutputTensor(), typed);
        Assert.Equal(new ModelInferResponse.Types.InferOutputTensor(), raw);
    }

    [Fact]
    public async Task UnaryCalls_OfDifferentShapes_EachAnswerOnlyItsOwn()
    {
        // Typed and raw answers, one output and two, interleaved and concurrent, so that reused messages meet every kind of answer.
        var calls = Enumerable.Range(0, 60).Select(async i =>
        {
            var id = $"reuse-{i}";
            switch (i % 3)
            {
                case 0:
                    var typed = new ModelInferRequest { ModelName = "tiny_classifier", Id = id };
                    typed.Inputs.Add(Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, i])));
                    var typedAnswer = await fixture.Grpc.ModelInferAsync(typed, Key());
                    Assert.Equal((id, "tiny_classifier", 0, 0), (typedAnswer.Id, typedAnswer.ModelName, typedAnswer.RawOutputContents.Count,
                        typedAnswer.Parameters.Count));
                    var output = Assert.Single(typedAnswer.Outputs);
                    Assert.Equal(("probabilities", "FP32", 3), (output.Name, output.Datatype, output.Contents.Fp32Contents.Count));
                    Assert.Equal([1L, 3L], output.Shape);
                    break;
                default:
                    var raw = new ModelInferRequest { ModelName = "two_in_two_out", Id = id };
                    raw.Inputs.Add(Input("a", "FP32", [1, 4]));
                    raw.Inputs.Add(Input("b", "FP32", [1, 4]));
                    raw.RawInputContents.Add(Raw([1f, 2f, 3f, i]));
                    raw.RawInputContents.Add(Raw([2f, 2f, 2f, 2f]));
                    if (i % 3 == 1)
                    {
                        raw.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" });
                    }

                    var rawAnswer = await fixture.Grpc.ModelInferAsync(raw, Key());
                    Assert.Equal((id, "two_in_two_out", "1", 0), (rawAnswer.Id, rawAnswer.ModelName, rawAnswer.ModelVersion, rawAnswer.Parameters.Count));
                    Assert.Equal(i % 3 == 1 ? ["product"] : ["sum", "product"], rawAnswer.Outputs.Select(o => o.Name));
                    Assert.All(rawAnswer.Outputs, o => Assert.Equal([1L, 4L], o.Shape));
                    Assert.All(rawAnswer.Outputs, o => Assert.Null(o.Contents));
                    var product = MemoryMarshal.Cast<byte, float>(rawAnswer.RawOutputContents[^1].Span).ToArray();
                    Assert.Equal([2f, 4f, 6f, 2f * i], product);
                    Assert.Equal(rawAnswer.Outputs.Count, rawAnswer.RawOutputContents.Count);
                    break;
            }
        });
        await Task.WhenAll(calls);
    }
}
