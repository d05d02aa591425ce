using System.Text.Json;
using Cluster.Cli;
using Cluster.Client.Tensors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Edge.Tests;

/// <summary>The one codec table: every element type has a codec, and its JSON and console text forms give back the same bytes.</summary>
public sealed class ElementCodecsTests
{
    public static TheoryData<TensorData> EveryDatatype => new()
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
        TensorData.FromFloat16("t", [(Half)1.5f, (Half)(-2f)], 2),
        TensorData.FromValues<ushort>("t", TensorElementType.BFloat16, [0x3FC0, 0xC000], 2),
        TensorData.FromFloat32("t", [1.5f, -0f], 2),
        TensorData.FromFloat64("t", [0.25, -1e300], 2),
        TensorData.FromStrings("t", ["a", "ü"], 2),
    };

    [Fact]
    public void EveryKnownType_HasOneCodec()
    {
        var known = Enum.GetValues<TensorElementType>().Where(t => t != TensorElementType.Unknown).ToArray();
        Assert.All(known, t => Assert.Equal(t, ElementCodecs.For(t)!.Type));
        Assert.Null(ElementCodecs.For(TensorElementType.Unknown));
        Assert.Equal([TensorElementType.Float16, TensorElementType.BFloat16], known.Where(ElementCodecs.RawOnly));
    }

    [Theory]
    [MemberData(nameof(EveryDatatype))]
    public void Json_RoundTripsTheBytes(TensorData tensor)
    {
        var codec = ElementCodecs.For(tensor.ElementType)!;
        var json = JsonDocument.Parse(codec.WriteJson(tensor).ToJsonString()).RootElement;
        Assert.Equal(tensor.Data, codec.ReadJson([.. json.EnumerateArray()]));
    }

    [Theory]
    [MemberData(nameof(EveryDatatype))]
    public void ConsoleText_RoundTripsTheBytes(TensorData tensor)
    {
        var spec = new TensorSpec { Name = "t", ElementType = tensor.ElementType, Shape = [2] };
        var read = TensorText.Parse(spec, string.Join(',', TensorText.Values(tensor)), shape: null);
        Assert.Equal(tensor.Data, read.Data);
        Assert.Equal(tensor.Shape, read.Shape);
    }

    [Fact]
    public void ConsoleText_BadValue_NamesInputAndType()
    {
        var spec = new TensorSpec { Name = "x", ElementType = TensorElementType.Int8, Shape = [2] };
        var error = Assert.Throws<UsageException>(() => TensorText.Parse(spec, "1,200", shape: null));
        Assert.StartsWith("Input 'x' (INT8): a value is out of range", error.Message);
    }
}
