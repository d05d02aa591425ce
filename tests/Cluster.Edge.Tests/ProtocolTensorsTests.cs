using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Cluster.Silo.Configuration;
using Cluster.Silo.Edge;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;

namespace Cluster.Edge.Tests;

/// <summary>The protocol tensor codec for every datatype, typed and raw, and the API key rules.</summary>
public sealed class ProtocolTensorsTests
{
    public static TheoryData<TensorData> EveryTypedDatatype => new()
    {
        TensorData.FromBool("t", [true, false], 2),
        TensorData.FromUInt8("t", [0, 255], 2),
        TensorData.FromValues<ushort>("t", TensorElementType.UInt16, [1, 65535], 2),
        TensorData.FromValues<uint>("t", TensorElementType.UInt32, [1, uint.MaxValue], 2),
        TensorData.FromValues<ulong>("t", TensorElementType.UInt64, [1, ulong.MaxValue], 2),
        TensorData.FromValues<sbyte>("t", TensorElementType.Int8, [-128, 127], 2),
        TensorData.FromValues<short>("t", TensorElementType.Int16, [-32768, 32767], 2),
        TensorData.FromInt32("t", [int.MinValue, int.MaxValue], 2),
        TensorData.FromInt64("t", [long.MinValue, long.MaxValue], 2),
        TensorData.FromFloat32("t", [1.5f, -0f], 2),
        TensorData.FromFloat64("t", [Math.PI, -1e300], 2),
        TensorData.FromStrings("t", ["a", "ü"], 2),
    };

    [Fact]
    public void Read_ShapesOfSuccessiveInputs_EachItsOwn_LikeShapesShareOneArray()
    {
        var shapes = new long[][] { [1, 2], [1, 2], [2, 1], [1, 2, 1], [1, 2] };
        var read = shapes.Select(shape => ProtocolTensors.Read("m", RawInput(shape), ByteString.CopyFrom(new byte[8]), maxElements: 100).Shape).ToArray();

        Assert.Equal(shapes, read);
        Assert.Same(read[0], read[1]);
        Assert.NotSame(read[1], read[4]);

        static ModelInferRequest.Types.InferInputTensor RawInput(long[] shape)
        {
            var input = new ModelInferRequest.Types.InferInputTensor { Name = "t", Datatype = "FP32" };
            input.Shape.Add(shape);
            return input;
        }
    }

    [Theory]
    [MemberData(nameof(EveryTypedDatatype))]
    public void TypedContents_RoundTripEveryDatatype(TensorData tensor)
    {
        var output = ProtocolTensors.Write(tensor, raw: null);
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "t", Datatype = output.Datatype, Contents = output.Contents };
        input.Shape.Add(output.Shape);
        var read = ProtocolTensors.Read("m", input, raw: null, maxElements: 100);
        Assert.Equal(tensor.ElementType, read.ElementType);
        Assert.Equal(tensor.Data, read.Data);
    }

    [Theory]
    [MemberData(nameof(EveryTypedDatatype))]
    public void RawContents_RoundTripEveryDatatype(TensorData tensor)
    {
        var raw = new RepeatedField<ByteString>();
        var output = ProtocolTensors.Write(tensor, raw);
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "t", Datatype = output.Datatype };
        input.Shape.Add(output.Shape);
        Assert.Equal(tensor.Data, ProtocolTensors.Read("m", input, raw[0], maxElements: 100).Data);
    }

    [Theory]
    [InlineData("FP16")]
    [InlineData("BF16")]
    public void HalfPrecision_TravelsRawOnly(string datatype)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "h", Datatype = datatype };
        input.Shape.Add(2);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, ProtocolTensors.Read("m", input, ByteString.CopyFrom(1, 2, 3, 4), 100).Data);
        var error = Assert.Throws<InvalidInputException>(() => ProtocolTensors.Read("m", input, raw: null, 100));
        Assert.Equal($"Input 'h' of model 'm': {datatype} data travels only in raw_input_contents.", error.Message);
    }

    [Fact]
    public void TypedValueOutOfRange_NamesIndex()
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "u", Datatype = "UINT8",
            Contents = new InferTensorContents { UintContents = { 1, 300 } } };
        input.Shape.Add(2);
        var error = Assert.Throws<InvalidInputException>(() => ProtocolTensors.Read("m", input, null, 100));
        Assert.Equal("Input 'u' of model 'm': value 300 at index 1 is out of range for its datatype.", error.Message);
    }

    [Fact]
    public void ApiKeys_FromFile_ScopesApplied()
    {
        var file = Path.GetTempFileName();
        File.WriteAllLines(file, ["# operators", "ops-key admin,infer", "app-key infer"]);
        var keys = new ApiKeyAuthorizer(new EdgeSettings { ApiKeysFile = file });
        Assert.Null(keys.Check("Bearer ops-key", ApiKeyAuthorizer.AdminScope));
        Assert.Null(keys.Check("Bearer app-key", ApiKeyAuthorizer.InferScope));
        Assert.Equal(StatusCode.PermissionDenied, keys.Check("Bearer app-key", ApiKeyAuthorizer.AdminScope)?.Status);
        Assert.Equal(StatusCode.Unauthenticated, keys.Check("Bearer #", ApiKeyAuthorizer.InferScope)?.Status);
        Assert.Equal(StatusCode.Unauthenticated, keys.Check(null, ApiKeyAuthorizer.InferScope)?.Status);
    }
}
