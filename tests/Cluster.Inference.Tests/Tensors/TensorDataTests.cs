using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Tests.Tensors;

public sealed class TensorDataTests
{
    [Fact]
    public void FromFloat32_StoresLittleEndianBytes()
    {
        var tensor = TensorData.FromFloat32("x", [1f, -2f], 1, 2);
        Assert.Equal(TensorElementType.Float32, tensor.ElementType);
        Assert.Equal(BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(-2f)), tensor.Data);
        Assert.Equal([1f, -2f], tensor.AsFloat32());
    }

    [Fact]
    public void TypedRoundTrips_ReturnTheValues()
    {
        Assert.Equal([(Half)0.5f], TensorData.FromFloat16("h", [(Half)0.5f], 1).AsFloat16());
        Assert.Equal([1.25], TensorData.FromFloat64("d", [1.25], 1).AsFloat64());
        Assert.Equal([int.MinValue, 7], TensorData.FromInt32("i", [int.MinValue, 7], 2).AsInt32());
        Assert.Equal([long.MaxValue], TensorData.FromInt64("l", [long.MaxValue], 1).AsInt64());
        Assert.Equal([(byte)255], TensorData.FromUInt8("u", [255], 1).AsUInt8());
        Assert.Equal([true, false], TensorData.FromBool("b", [true, false], 2).AsBool());
        Assert.Equal(2, TensorData.FromBool("b", [true, false], 2).Data.Length);
    }

    [Fact]
    public void FromStrings_WritesLengthPrefixedUtf8()
    {
        var tensor = TensorData.FromStrings("s", ["ab", "é"], 2);
        Assert.Equal(new byte[] { 2, 0, 0, 0, (byte)'a', (byte)'b', 2, 0, 0, 0, 0xC3, 0xA9 }, tensor.Data);
        Assert.Equal(["ab", "é"], tensor.AsStrings());
    }

    [Fact]
    public void FromFloat32_CountDiffersFromShape_ThrowsNamingTensor()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorData.FromFloat32("features", [1f, 2f, 3f], 1, 4));
        Assert.Equal("Tensor 'features': shape [1,4] holds 4 elements but 3 were given.", error.Message);
    }

    [Fact]
    public void AsFloat32_OnInt64Tensor_ThrowsNamingTypes()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TensorData.FromInt64("ids", [1], 1).AsFloat32());
        Assert.Equal("Tensor 'ids' holds INT64 elements, not FP32.", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0 }, "has no length prefix")]
    [InlineData(new byte[] { 9, 0, 0, 0, 1 }, "claims 9 bytes but 1 remain")]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 7 }, "1 bytes follow the last of 2 string elements")]
    public void StringCodec_MalformedBytes_ThrowsNamingTensor(byte[] data, string problem)
    {
        var error = Assert.Throws<FormatException>(() => StringTensorCodec.Decode("text", data, 2));
        Assert.StartsWith("Tensor 'text': ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ElementCount_Overflow_Throws() =>
        Assert.Throws<OverflowException>(() => TensorShape.ElementCount([long.MaxValue, 2]));

    [Fact]
    public void ProtocolNames_RoundTripEveryType()
    {
        foreach (var type in Enum.GetValues<TensorElementType>().Where(t => t != TensorElementType.Unknown))
        {
            Assert.Equal(type, TensorElementTypes.FromProtocolName(type.ToProtocolName()));
        }
    }
}
