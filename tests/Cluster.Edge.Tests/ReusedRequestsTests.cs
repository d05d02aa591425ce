using System.Buffers;
using Cluster.Client.Protocol;
using Cluster.Silo.Edge;
using Google.Protobuf;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>A request message handed back is cleared, and a later parse into it gives only the new message.</summary>
public sealed class ReusedRequestsTests
{
    [Fact]
    public void ReturnedRequest_IsCleared()
    {
        var request = ReusedRequests.Parse(new ReadOnlySequence<byte>(FullRequest().ToByteArray()));

        ReusedRequests.Return(request);

        Assert.Equal(new ModelInferRequest(), request);
    }

    [Fact]
    public void Parse_AfterFullerRequestsWereReturned_GivesOnlyTheNewMessage()
    {
        // One returned with every field set, one with a field the proto does not know of (kept as unknown, so never reused).
        var unknown = FullRequest().ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        Assert.NotEqual(0, ModelInferRequest.Parser.ParseFrom(unknown).CalculateSize() - FullRequest().CalculateSize());
        ReusedRequests.Return(ReusedRequests.Parse(new ReadOnlySequence<byte>(FullRequest().ToByteArray())));
        ReusedRequests.Return(ReusedRequests.Parse(new ReadOnlySequence<byte>(unknown)));

        var small = new ModelInferRequest { ModelName = "tiny_classifier" };
        small.Inputs.Add(Input("features", "FP32", [1, 4], c => c.Fp32Contents.Add([1f, 2f, 3f, 4f])));
        for (var i = 0; i < 4; i++)
        {
            var parsed = ReusedRequests.Parse(new ReadOnlySequence<byte>(small.ToByteArray()));
            Assert.Equal(small, parsed);
            Assert.Equal(small.CalculateSize(), parsed.CalculateSize());
        }
    }

    private static ModelInferRequest FullRequest()
    {
        var request = new ModelInferRequest { ModelName = "two_in_two_out", ModelVersion = "1", Id = "full" };
        request.Parameters["priority"] = new InferParameter { Int64Param = 1 };
        request.Inputs.Add(Input("a", "FP32", [1, 4]));
        request.Inputs.Add(Input("b", "FP32", [1, 4]));
        request.RawInputContents.Add(Raw([1f, 2f, 3f, 4f]));
        request.RawInputContents.Add(Raw([2f, 2f, 2f, 2f]));
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" });
        return request;
    }
}
