using System.Text.Json;
using Cluster.Cli;
using Cluster.Client.Tensors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Edge.Tests;

/// <summary>The one codec table: every element type has a codec, JSON gives back the same bytes and the console reads back what it prints.</summary>
public sealed class ElementCodecsTests
{
    /// <summary>The types that travel only raw, beside <see cref="ProtocolTensorsTests.EveryTypedDatatype"/>.</summary>
    public static TheoryData<TensorData> HalfPrecision => new()
    {
        TensorData.FromFloat16("t", [(Half)1.5f, (Half)(-2f)], 2),
        TensorData.FromValues<ushort>("t", TensorElementType.BFloat16, [0x3FC0, 0xC000], 2),
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
    [MemberData(nameof(ProtocolTensorsTests.EveryTypedDatatype), MemberType = typeof(ProtocolTensorsTests))]
    [MemberData(nameof(HalfPrecision))]
    public void Json_RoundTripsTheBytes(TensorData tensor)
    {
        var codec = ElementCodecs.For(tensor.ElementType)!;
        var json = JsonDocument.Parse(codec.WriteJson(tensor).ToJsonString()).RootElement;
        Assert.Equal(tensor.Data, codec.ReadJson([.. json.EnumerateArray()]));
    }

    [Theory]
    [MemberData(nameof(ProtocolTensorsTests.EveryTypedDatatype), MemberType = typeof(ProtocolTensorsTests))]
    [MemberData(nameof(HalfPrecision))]
    public void ConsoleText_ReadsBackWhatItPrints(TensorData tensor)
    {
        var spec = new TensorSpec { Name = "t", ElementType = tensor.ElementType, Shape = [2] };
        var text = TensorText.Values(tensor);
        var read = TensorText.Parse(spec, string.Join(',', text), shape: null);
        // The console prints FP32 to 7 and FP64 to 15 significant digits: what it reads back prints the same.
        Assert.Equal(text, TensorText.Values(read));
        Assert.Equal(tensor.ElementType, read.ElementType);
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
