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
    public void Parse_GivesWhatTheGeneratedParserGives()
    {
        var bytes = FullRequest().ToByteArray();

        Assert.Equal(ModelInferRequest.Parser.ParseFrom(bytes), ReusedRequests.Parse(new ReadOnlySequence<byte>(bytes)));
    }

    [Fact]
    public void Parse_FieldsTheProtoDoesNotKnow_AreDropped()
    {
        // Field 111 (varint) on the request, which the generated parser would keep as unknown.
        var unknown = FullRequest().ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        Assert.NotEqual(0, ModelInferRequest.Parser.ParseFrom(unknown).CalculateSize() - FullRequest().CalculateSize());

        Assert.Equal(FullRequest(), ReusedRequests.Parse(new ReadOnlySequence<byte>(unknown)));
    }

    [Fact]
    public void Parse_MalformedMessage_Throws()
    {
        // Field 5 (inputs) claims 100 bytes where 2 follow.
        var malformed = new byte[] { 0x2A, 0x64, 0x0A, 0x00 };

        Assert.Throws<InvalidProtocolBufferException>(() => ReusedRequests.Parse(new ReadOnlySequence<byte>(malformed)));
    }

    [Fact]
    public void Parse_AfterFullerRequestsWereReturned_GivesOnlyTheNewMessage()
    {
        // One returned with every field set (its input tensors with parameters and typed contents), one with a field the proto does not
        // know of, one whose input tensor has a field its proto does not know of (kept as unknown, so that tensor is never reused).
        var unknown = FullRequest().ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        var unknownInInput = new ModelInferRequest { ModelName = "m" };
        var tensorBytes = Input("x", "FP32", [1]).ToByteArray().Concat(new byte[] { 0xF8, 0x06, 0x01 }).ToArray();
        var withUnknownInput = unknownInInput.ToByteArray().Concat(new byte[] { 0x2A, (byte)tensorBytes.Length }).Concat(tensorBytes).ToArray();
        ReusedRequests.Return(ReusedRequests.Parse(new ReadOnlySequence<byte>(FullRequest().ToByteArray())));
        ReusedRequests.Return(ReusedRequests.Parse(new ReadOnlySequence<byte>(unknown)));
        ReusedRequests.Return(ReusedRequests.Parse(new ReadOnlySequence<byte>(withUnknownInput)));

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
        request.Parameters["timeout"] = new InferParameter { Uint64Param = 5 };
        request.Inputs.Add(Input("a", "FP32", [1, 4]));
        request.Inputs.Add(Input("b", "FP32", [1, 4], c => c.Fp32Contents.Add([2f, 2f, 2f, 2f])));
        request.Inputs[0].Parameters["binary_data_size"] = new InferParameter { Int64Param = 16 };
        request.RawInputContents.Add(Raw([1f, 2f, 3f, 4f]));
        request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" });
        request.Outputs[0].Parameters["binary_data"] = new InferParameter { BoolParam = true };
        return request;
    }
}
