using System.Globalization;
using System.Runtime.InteropServices;
using Grpc.Core;
using Cluster.Client.Protocol;
using Cluster.Silo.Edge;
using Google.Protobuf;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>
/// Responses are reused once written, unary or streamed, and requests are parsed into reused messages (<see cref="ReusedRequestsTests"/>):
/// nothing of one request or answer shows in the next, as the concurrent calls here check end to end.
/// </summary>
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
        await Task.WhenAll(Enumerable.Range(0, 60).Select(async i => AssertOwnAnswer(i, await fixture.Grpc.ModelInferAsync(Request(i), Key()))));
    }

    [Fact]
    public async Task StreamedAnswers_OfDifferentShapes_EachAnswerOnlyItsOwn()
    {
        using var call = fixture.Grpc.ModelStreamInfer(Key());
        var answers = new List<ModelStreamInferResponse>();
        var reading = Task.Run(async () =>
        {
            await foreach (var answer in call.ResponseStream.ReadAllAsync())
            {
                answers.Add(answer);
            }
        });
        for (var i = 0; i < 60; i++)
        {
            await call.RequestStream.WriteAsync(Request(i));
        }

        await call.RequestStream.CompleteAsync();
        await reading;

        Assert.Equal(60, answers.Count);
        Assert.All(answers, a => Assert.Equal("", a.ErrorMessage));
        foreach (var answer in answers)
        {
            AssertOwnAnswer(int.Parse(answer.InferResponse.Id["reuse-".Length..], CultureInfo.InvariantCulture), answer.InferResponse);
        }
    }

    private static ModelInferRequest Request(int i)
    {
        if (i % 3 == 0)
        {
            var typed = new ModelInferRequest { ModelName = "tiny_classifier", Id = $"reuse-{i}" };
            typed.Inputs.Add(Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, i])));
            return typed;
        }

        var raw = new ModelInferRequest { ModelName = "two_in_two_out", Id = $"reuse-{i}" };
        raw.Inputs.Add(Input("a", "FP32", [1, 4]));
        raw.Inputs.Add(Input("b", "FP32", [1, 4]));
        raw.RawInputContents.Add(Raw([1f, 2f, 3f, i]));
        raw.RawInputContents.Add(Raw([2f, 2f, 2f, 2f]));
        if (i % 3 == 1)
        {
            raw.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" });
        }

        return raw;
    }

    private static void AssertOwnAnswer(int i, ModelInferResponse answer)
    {
        if (i % 3 == 0)
        {
            Assert.Equal(($"reuse-{i}", "tiny_classifier", 0, 0), (answer.Id, answer.ModelName, answer.RawOutputContents.Count, answer.Parameters.Count));
            var output = Assert.Single(answer.Outputs);
            Assert.Equal(("probabilities", "FP32", 3), (output.Name, output.Datatype, output.Contents.Fp32Contents.Count));
            Assert.Equal([1L, 3L], output.Shape);
            return;
        }

        Assert.Equal(($"reuse-{i}", "two_in_two_out", "1", 0), (answer.Id, answer.ModelName, answer.ModelVersion, answer.Parameters.Count));
        Assert.Equal(i % 3 == 1 ? ["product"] : ["sum", "product"], answer.Outputs.Select(o => o.Name));
        Assert.All(answer.Outputs, o => Assert.Equal([1L, 4L], o.Shape));
        Assert.All(answer.Outputs, o => Assert.Null(o.Contents));
        Assert.Equal(answer.Outputs.Count, answer.RawOutputContents.Count);
        var product = MemoryMarshal.Cast<byte, float>(answer.RawOutputContents[^1].Span).ToArray();
        Assert.Equal([2f, 4f, 6f, 2f * i], product);
    }
}
