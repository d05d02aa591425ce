using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;
using Google.Protobuf.Collections;

namespace Cluster.Client.Tensors;

/// <summary>
/// The one table of element codecs: each element type says once how it travels in typed contents, JSON and text.
/// FP16 and BF16 have no typed-contents field (the protocol carries them only raw); JSON and text write them as floats.
/// </summary>
public static class ElementCodecs
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly Dictionary<TensorElementType, ElementCodec> Table = new ElementCodec[]
    {
        new FixedElementCodec<byte, bool>(TensorElementType.Bool)
        {
            Contents = new("bool_contents", c => c.BoolContents, v => v ? (byte)1 : (byte)0, v => v != 0),
            FromJson = j => j.GetBoolean() ? (byte)1 : (byte)0, ToJson = v => JsonValue.Create(v != 0),
            Parse = ParseBool, Format = v => v != 0 ? "true" : "false",
        },
        Integer<byte, uint>(TensorElementType.UInt8, "uint_contents", c => c.UintContents),
        Integer<ushort, uint>(TensorElementType.UInt16, "uint_contents", c => c.UintContents),
        Integer<uint, uint>(TensorElementType.UInt32, "uint_contents", c => c.UintContents),
        Integer<ulong, ulong>(TensorElementType.UInt64, "uint64_contents", c => c.Uint64Contents),
        Integer<sbyte, int>(TensorElementType.Int8, "int_contents", c => c.IntContents),
        Integer<short, int>(TensorElementType.Int16, "int_contents", c => c.IntContents),
        Integer<int, int>(TensorElementType.Int32, "int_contents", c => c.IntContents),
        Integer<long, long>(TensorElementType.Int64, "int64_contents", c => c.Int64Contents),
        new FixedElementCodec<Half, float>(TensorElementType.Float16)
        {
            FromJson = j => (Half)j.GetSingle(), ToJson = v => NonFiniteNumbers.Value((float)v),
            Parse = s => Half.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<ushort, float>(TensorElementType.BFloat16)
        {
            FromJson = j => BFloat16Bits(j.GetSingle()), ToJson = v => NonFiniteNumbers.Value(BFloat16Value(v)),
            Parse = s => BFloat16Bits(float.Parse(s, Invariant)), Format = v => BFloat16Value(v).ToString(Invariant),
        },
        new FixedElementCodec<float, float>(TensorElementType.Float32)
        {
            Contents = new("fp32_contents", c => c.Fp32Contents, v => v, v => v),
            FromJson = j => j.GetSingle(), ToJson = v => NonFiniteNumbers.Value(v),
            Parse = s => float.Parse(s, Invariant), Format = v => v.ToString("G7", Invariant),
        },
        new FixedElementCodec<double, double>(TensorElementType.Float64)
        {
            Contents = new("fp64_contents", c => c.Fp64Contents, v => v, v => v),
            FromJson = j => j.GetDouble(), ToJson = v => NonFiniteNumbers.Value(v),
            Parse = s => double.Parse(s, Invariant), Format = v => v.ToString("G15", Invariant),
        },
        new StringElementCodec(),
    }.ToDictionary(codec => codec.Type);

    /// <summary>The codec of <paramref name="type"/>, or null for <see cref="TensorElementType.Unknown"/>.</summary>
    public static ElementCodec? For(TensorElementType type) => Table.GetValueOrDefault(type);

    /// <summary>Whether a datatype can only travel in raw form.</summary>
    public static bool RawOnly(TensorElementType type) => For(type) is { ContentsField: null };

    /// <summary>
    /// An integer type: typed contents widen it to the 32- or 64-bit field of its sign, JSON and text hold its digits. A JSON
    /// value out of its range is a <see cref="FormatException"/>, as a value that is not an integer is.
    /// </summary>
    private static FixedElementCodec<T, TWire> Integer<T, TWire>(TensorElementType type, string field, Func<InferTensorContents, RepeatedField<TWire>> of)
        where T : unmanaged, IBinaryInteger<T>
        where TWire : IBinaryInteger<TWire> => new(type)
    {
        Contents = new(field, of, v => T.CreateChecked(v), v => TWire.CreateTruncating(v)),
        FromJson = IntegerFromJson<T>,
        ToJson = v => T.IsNegative(v) ? JsonValue.Create(long.CreateTruncating(v)) : JsonValue.Create(ulong.CreateTruncating(v)),
        Parse = s => T.Parse(s, NumberStyles.Integer, Invariant),
        Format = v => v.ToString(null, Invariant),
    };

    private static T IntegerFromJson<T>(JsonElement value)
        where T : IBinaryInteger<T>
    {
        try
        {
            return value.TryGetInt64(out var signed) ? T.CreateChecked(signed) : T.CreateChecked(value.GetUInt64());
        }
        catch (OverflowException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>The upper 16 bits of a float: BF16 by truncation.</summary>
    private static ushort BFloat16Bits(float value) => (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16);

    private static float BFloat16Value(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static byte ParseBool(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => 1,
        "false" or "0" => 0,
        _ => throw new FormatException($"'{value}' is not true/false/1/0."),
    };
}
