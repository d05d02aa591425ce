using Cluster.Client.Protocol;
using Grpc.Core;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class StreamingTests(EdgeFixture fixture)
{
    [Fact]
    public async Task ModelStreamInfer_ThousandInterleavedRequests_EachAnsweredWithItsId()
    {
        const int Count = 1000;
        using var call = fixture.Grpc.ModelStreamInfer(Key());
        var answers = new Dictionary<string, ModelStreamInferResponse>();
        var reading = Task.Run(async () =>
        {
            await foreach (var answer in call.ResponseStream.ReadAllAsync())
            {
                answers[answer.InferResponse.Id] = answer;
            }
        });

        for (var i = 0; i < Count; i++)
        {
            await call.RequestStream.WriteAsync(Request(i));
        }

        await call.RequestStream.CompleteAsync();
        await reading;

        Assert.Equal(Count, answers.Count);
        for (var i = 0; i < Count; i++)
        {
            var answer = answers[$"req-{i}"];
            if (i % 10 == 9)
            {
                Assert.StartsWith("InvalidArgument: Input 'ids' of model 'int64_scale' version 1 has datatype FP32; expected INT64.", answer.ErrorMessage,
                    StringComparison.Ordinal);
            }
            else if (i % 2 == 0)
            {
                Assert.Equal("", answer.ErrorMessage);
                Assert.Equal([(i * 3L) + 1, (i * 3L) + 4], answer.InferResponse.Outputs[0].Contents.Int64Contents);
            }
            else
            {
                Assert.Equal("", answer.ErrorMessage);
                Assert.Equal([i + 1f, i + 1f, i + 1f, i + 1f], answer.InferResponse.Outputs[0].Contents.Fp32Contents);
            }
        }
    }

    /// <summary>Even ids: int64_scale on [i, i+1]; odd: two_in_two_out sum of [i,…] and ones; every tenth: a bad datatype.</summary>
    private static ModelInferRequest Request(int i)
    {
        var request = new ModelInferRequest { Id = $"req-{i}" };
        if (i % 10 == 9)
        {
            request.ModelName = "int64_scale";
            request.Inputs.Add(Input("ids", "FP32", [1, 2], c => c.Fp32Contents.Add([1f, 2f])));
        }
        else if (i % 2 == 0)
        {
            request.ModelName = "int64_scale";
            request.Inputs.Add(Input("ids", "INT64", [1, 2], c => c.Int64Contents.Add([i, i + 1L])));
        }
        else
        {
            request.ModelName = "two_in_two_out";
            request.Inputs.Add(Input("a", "FP32", [1, 4], c => c.Fp32Contents.Add([i, i, i, i])));
            request.Inputs.Add(Input("b", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 1f, 1f, 1f])));
            request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "sum" });
        }

        return request;
    }
}
