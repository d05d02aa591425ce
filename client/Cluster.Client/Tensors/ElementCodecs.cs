using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Contracts.Tensors;

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
        new FixedElementCodec<byte, uint>(TensorElementType.UInt8)
        {
            Contents = new("uint_contents", c => c.UintContents, v => checked((byte)v), v => v),
            FromJson = j => j.GetByte(), ToJson = v => JsonValue.Create(v),
            Parse = s => byte.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<ushort, uint>(TensorElementType.UInt16)
        {
            Contents = new("uint_contents", c => c.UintContents, v => checked((ushort)v), v => v),
            FromJson = j => j.GetUInt16(), ToJson = v => JsonValue.Create(v),
            Parse = s => ushort.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<uint, uint>(TensorElementType.UInt32)
        {
            Contents = new("uint_contents", c => c.UintContents, v => v, v => v),
            FromJson = j => j.GetUInt32(), ToJson = v => JsonValue.Create(v),
            Parse = s => uint.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<ulong, ulong>(TensorElementType.UInt64)
        {
            Contents = new("uint64_contents", c => c.Uint64Contents, v => v, v => v),
            FromJson = j => j.GetUInt64(), ToJson = v => JsonValue.Create(v),
            Parse = s => ulong.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<sbyte, int>(TensorElementType.Int8)
        {
            Contents = new("int_contents", c => c.IntContents, v => checked((sbyte)v), v => v),
            FromJson = j => j.GetSByte(), ToJson = v => JsonValue.Create(v),
            Parse = s => sbyte.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<short, int>(TensorElementType.Int16)
        {
            Contents = new("int_contents", c => c.IntContents, v => checked((short)v), v => v),
            FromJson = j => j.GetInt16(), ToJson = v => JsonValue.Create(v),
            Parse = s => short.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<int, int>(TensorElementType.Int32)
        {
            Contents = new("int_contents", c => c.IntContents, v => v, v => v),
            FromJson = j => j.GetInt32(), ToJson = v => JsonValue.Create(v),
            Parse = s => int.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
        new FixedElementCodec<long, long>(TensorElementType.Int64)
        {
            Contents = new("int64_contents", c => c.Int64Contents, v => v, v => v),
            FromJson = j => j.GetInt64(), ToJson = v => JsonValue.Create(v),
            Parse = s => long.Parse(s, Invariant), Format = v => v.ToString(Invariant),
        },
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
