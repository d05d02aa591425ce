using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Cluster.Contracts.Tensors;

/// <summary>
/// A named tensor as it travels between clients and grains: element type, shape and the
/// little-endian bytes of its elements (strings as 4-byte length prefixes followed by UTF-8).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TensorData
{
    /// <summary>The input or output name in the model.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The element type.</summary>
    [Id(1)] public required TensorElementType ElementType { get; init; }

    /// <summary>The dimensions, outermost first.</summary>
    [Id(2)] public required long[] Shape { get; init; }

    /// <summary>The elements' bytes, row-major.</summary>
    [Id(3)] public required byte[] Data { get; init; }

    /// <summary>The number of elements the shape describes.</summary>
    public long ElementCount => TensorShape.ElementCount(Shape);

    /// <summary>Builds a float32 tensor.</summary>
    public static TensorData FromFloat32(string name, ReadOnlySpan<float> values, params long[] shape) =>
        FromValues(name, TensorElementType.Float32, values, shape);

    /// <summary>Builds a float16 tensor.</summary>
    public static TensorData FromFloat16(string name, ReadOnlySpan<Half> values, params long[] shape) =>
        FromValues(name, TensorElementType.Float16, values, shape);

    /// <summary>Builds a float64 tensor.</summary>
    public static TensorData FromFloat64(string name, ReadOnlySpan<double> values, params long[] shape) =>
        FromValues(name, TensorElementType.Float64, values, shape);

    /// <summary>Builds an int32 tensor.</summary>
    public static TensorData FromInt32(string name, ReadOnlySpan<int> values, params long[] shape) =>
        FromValues(name, TensorElementType.Int32, values, shape);

    /// <summary>Builds an int64 tensor.</summary>
    public static TensorData FromInt64(string name, ReadOnlySpan<long> values, params long[] shape) =>
        FromValues(name, TensorElementType.Int64, values, shape);

    /// <summary>Builds a uint8 tensor.</summary>
    public static TensorData FromUInt8(string name, ReadOnlySpan<byte> values, params long[] shape) =>
        FromValues(name, TensorElementType.UInt8, values, shape);

    /// <summary>Builds a bool tensor.</summary>
    public static TensorData FromBool(string name, ReadOnlySpan<bool> values, params long[] shape) =>
        FromValues(name, TensorElementType.Bool, values, shape);

    /// <summary>Builds a string tensor (UTF-8, each element length-prefixed).</summary>
    public static TensorData FromStrings(string name, IReadOnlyList<string> values, params long[] shape)
    {
        CheckCount(name, values.Count, shape);
        var size = 0;
        foreach (var value in values)
        {
            size += 4 + Encoding.UTF8.GetByteCount(value);
        }

        var data = new byte[size];
        var offset = 0;
        foreach (var value in values)
        {
            var length = Encoding.UTF8.GetBytes(value, data.AsSpan(offset + 4));
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(offset), length);
            offset += 4 + length;
        }

        return new TensorData { Name = name, ElementType = TensorElementType.String, Shape = shape, Data = data };
    }

    /// <summary>Builds a tensor of any fixed-size element type from its values.</summary>
    public static TensorData FromValues<T>(string name, TensorElementType type, ReadOnlySpan<T> values, params long[] shape)
        where T : unmanaged
    {
        if (type.SizeOf() != Unsafe.SizeOf<T>())
        {
            throw new ArgumentException($"Tensor '{name}': {typeof(T).Name} values cannot hold {type.ToProtocolName()} elements.");
        }

        CheckCount(name, values.Length, shape);
        return new TensorData { Name = name, ElementType = type, Shape = shape, Data = MemoryMarshal.AsBytes(values).ToArray() };
    }

    /// <summary>The elements as float32 values.</summary>
    public float[] AsFloat32() => As<float>(TensorElementType.Float32);

    /// <summary>The elements as float16 values.</summary>
    public Half[] AsFloat16() => As<Half>(TensorElementType.Float16);

    /// <summary>The elements as float64 values.</summary>
    public double[] AsFloat64() => As<double>(TensorElementType.Float64);

    /// <summary>The elements as int32 values.</summary>
    public int[] AsInt32() => As<int>(TensorElementType.Int32);

    /// <summary>The elements as int64 values.</summary>
    public long[] AsInt64() => As<long>(TensorElementType.Int64);

    /// <summary>The elements as uint8 values.</summary>
    public byte[] AsUInt8() => As<byte>(TensorElementType.UInt8);

    /// <summary>The elements as bool values.</summary>
    public bool[] AsBool() => As<bool>(TensorElementType.Bool);

    /// <summary>The elements as strings.</summary>
    public string[] AsStrings()
    {
        RequireType(TensorElementType.String);
        return StringTensorCodec.Decode(Name, Data, checked((int)ElementCount));
    }

    private T[] As<T>(TensorElementType type)
        where T : unmanaged
    {
        RequireType(type);
        return MemoryMarshal.Cast<byte, T>(Data).ToArray();
    }

    private void RequireType(TensorElementType type)
    {
        if (ElementType != type)
        {
            throw new InvalidOperationException($"Tensor '{Name}' holds {ElementType.ToProtocolName()} elements, not {type.ToProtocolName()}.");
        }
    }

    private static void CheckCount(string name, int count, long[] shape)
    {
        var expected = TensorShape.ElementCount(shape);
        if (expected != count)
        {
            throw new ArgumentException($"Tensor '{name}': shape {TensorShape.Format(shape)} holds {expected} elements but {count} were given.");
        }
    }
}
