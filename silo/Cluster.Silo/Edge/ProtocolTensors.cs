using System.Runtime.InteropServices;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Google.Protobuf;
using Google.Protobuf.Collections;
using InputTensor = Cluster.Client.Protocol.ModelInferRequest.Types.InferInputTensor;
using OutputTensor = Cluster.Client.Protocol.ModelInferResponse.Types.InferOutputTensor;

namespace Cluster.Silo.Edge;

/// <summary>
/// Converts Open Inference Protocol tensors to the cluster's byte form and back. Every size is
/// checked against the shape and the limits before a buffer is allocated.
/// </summary>
public static class ProtocolTensors
{
    /// <summary>Reads one input, from <paramref name="raw"/> when given, else from its typed contents.</summary>
    public static TensorData Read(string model, InputTensor input, ByteString? raw, long maxElements)
    {
        var where = new Where(model, input.Name);
        var type = TensorElementTypes.FromProtocolName(input.Datatype);
        if (type == TensorElementType.Unknown)
        {
            throw new InvalidInputException($"{where}: datatype '{input.Datatype}' is not one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, " +
                "INT64, FP16, BF16, FP32, FP64, BYTES.");
        }

        var shape = input.Shape.ToArray();
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0 || (dimension > 0 && count > maxElements / dimension))
            {
                throw new InvalidInputException(dimension < 0
                    ? $"{where}: shape {TensorShape.Format(shape)} has a negative dimension."
                    : $"{where}: shape {TensorShape.Format(shape)} claims more than the limit of {maxElements} elements per tensor.");
            }

            count *= dimension;
        }

        return raw is not null ? ReadRaw(where, input.Name, type, shape, count, raw) : ReadTyped(where, input, type, shape, count);
    }

    /// <summary>Writes one output, typed unless <paramref name="raw"/> receives the bytes.</summary>
    public static OutputTensor Write(TensorData tensor, RepeatedField<ByteString>? raw)
    {
        var output = new OutputTensor { Name = tensor.Name, Datatype = tensor.ElementType.ToProtocolName() };
        output.Shape.Add(tensor.Shape);
        if (raw is not null)
        {
            // The response owns the tensor's bytes from here on, so no copy is needed.
            raw.Add(UnsafeByteOperations.UnsafeWrap(tensor.Data));
            return output;
        }

        var contents = new InferTensorContents();
        switch (tensor.ElementType)
        {
            case TensorElementType.Float32: contents.Fp32Contents.Add(tensor.AsFloat32()); break;
            case TensorElementType.Float64: contents.Fp64Contents.Add(tensor.AsFloat64()); break;
            case TensorElementType.Int64: contents.Int64Contents.Add(tensor.AsInt64()); break;
            case TensorElementType.Int32: contents.IntContents.Add(tensor.AsInt32()); break;
            case TensorElementType.Int16: contents.IntContents.Add(Widen<short, int>(tensor.Data, v => v)); break;
            case TensorElementType.Int8: contents.IntContents.Add(Widen<sbyte, int>(tensor.Data, v => v)); break;
            case TensorElementType.UInt64: contents.Uint64Contents.Add(Widen<ulong, ulong>(tensor.Data, v => v)); break;
            case TensorElementType.UInt32: contents.UintContents.Add(Widen<uint, uint>(tensor.Data, v => v)); break;
            case TensorElementType.UInt16: contents.UintContents.Add(Widen<ushort, uint>(tensor.Data, v => v)); break;
            case TensorElementType.UInt8: contents.UintContents.Add(Widen<byte, uint>(tensor.Data, v => v)); break;
            case TensorElementType.Bool: contents.BoolContents.Add(tensor.AsBool()); break;
            case TensorElementType.String: contents.BytesContents.Add(tensor.AsStrings().Select(ByteString.CopyFromUtf8)); break;
            default: throw new InvalidOperationException($"Output '{tensor.Name}' is {tensor.ElementType.ToProtocolName()}, which travels only raw.");
        }

        output.Contents = contents;
        return output;
    }

    /// <summary>Whether a datatype can only travel in raw form.</summary>
    public static bool RawOnly(TensorElementType type) => type is TensorElementType.Float16 or TensorElementType.BFloat16;

    private static TensorData ReadRaw(Where where, string name, TensorElementType type, long[] shape, long count, ByteString raw)
    {
        if (type == TensorElementType.String)
        {
            if (raw.Length < 4L * count)
            {
                throw new InvalidInputException($"{where}: raw BYTES contents have {raw.Length} bytes, too few for {count} length-prefixed elements.");
            }

            try
            {
                StringTensorCodec.Decode(name, raw.Span, checked((int)count));
            }
            catch (FormatException e)
            {
                throw new InvalidInputException($"{where}: raw BYTES contents do not hold {count} length-prefixed elements: {e.Message}");
            }
        }
        else if (raw.Length != count * type.SizeOf())
        {
            throw new InvalidInputException($"{where}: raw_input_contents has {raw.Length} bytes; shape {TensorShape.Format(shape)} " +
                $"of {type.ToProtocolName()} needs {count * type.SizeOf()}.");
        }

        return new TensorData { Name = name, ElementType = type, Shape = shape, Data = BytesOf(raw) };
    }

    /// <summary>The message's own array when the bytes fill it exactly (both are immutable), else a copy.</summary>
    private static byte[] BytesOf(ByteString raw) =>
        MemoryMarshal.TryGetArray(raw.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : raw.ToByteArray();

    private static TensorData ReadTyped(Where where, InputTensor input, TensorElementType type, long[] shape, long count)
    {
        if (RawOnly(type))
        {
            throw new InvalidInputException($"{where}: {type.ToProtocolName()} data travels only in raw_input_contents.");
        }

        var contents = input.Contents ?? new InferTensorContents();
        var (given, field) = type switch
        {
            TensorElementType.Float32 => (contents.Fp32Contents.Count, "fp32_contents"),
            TensorElementType.Float64 => (contents.Fp64Contents.Count, "fp64_contents"),
            TensorElementType.Int64 => (contents.Int64Contents.Count, "int64_contents"),
            TensorElementType.Int32 or TensorElementType.Int16 or TensorElementType.Int8 => (contents.IntContents.Count, "int_contents"),
            TensorElementType.UInt64 => (contents.Uint64Contents.Count, "uint64_contents"),
            TensorElementType.UInt32 or TensorElementType.UInt16 or TensorElementType.UInt8 => (contents.UintContents.Count, "uint_contents"),
            TensorElementType.Bool => (contents.BoolContents.Count, "bool_contents"),
            _ => (contents.BytesContents.Count, "bytes_contents"),
        };
        if (given != count)
        {
            throw new InvalidInputException($"{where}: contents.{field} has {given} values; shape {TensorShape.Format(shape)} needs {count}.");
        }

        return type switch
        {
            TensorElementType.Float32 => TensorData.FromFloat32(input.Name, contents.Fp32Contents.ToArray(), shape),
            TensorElementType.Float64 => TensorData.FromFloat64(input.Name, contents.Fp64Contents.ToArray(), shape),
            TensorElementType.Int64 => TensorData.FromInt64(input.Name, contents.Int64Contents.ToArray(), shape),
            TensorElementType.Int32 => TensorData.FromInt32(input.Name, contents.IntContents.ToArray(), shape),
            TensorElementType.Int16 => TensorData.FromValues(input.Name, type, Narrow(where, contents.IntContents, v => checked((short)v)), shape),
            TensorElementType.Int8 => TensorData.FromValues(input.Name, type, Narrow(where, contents.IntContents, v => checked((sbyte)v)), shape),
            TensorElementType.UInt64 => TensorData.FromValues(input.Name, type, contents.Uint64Contents.ToArray(), shape),
            TensorElementType.UInt32 => TensorData.FromValues(input.Name, type, contents.UintContents.ToArray(), shape),
            TensorElementType.UInt16 => TensorData.FromValues(input.Name, type, Narrow(where, contents.UintContents, v => checked((ushort)v)), shape),
            TensorElementType.UInt8 => TensorData.FromUInt8(input.Name, Narrow(where, contents.UintContents, v => checked((byte)v)), shape),
            TensorElementType.Bool => TensorData.FromBool(input.Name, contents.BoolContents.ToArray(), shape),
            _ => TensorData.FromStrings(input.Name, contents.BytesContents.Select(b => b.ToStringUtf8()).ToArray(), shape),
        };
    }

    private static TTo[] Narrow<TFrom, TTo>(Where where, RepeatedField<TFrom> values, Func<TFrom, TTo> convert)
    {
        var result = new TTo[values.Count];
        for (var i = 0; i < result.Length; i++)
        {
            try
            {
                result[i] = convert(values[i]);
            }
            catch (OverflowException)
            {
                throw new InvalidInputException($"{where}: value {values[i]} at index {i} is out of range for its datatype.");
            }
        }

        return result;
    }

    private static TTo[] Widen<TFrom, TTo>(byte[] data, Func<TFrom, TTo> convert)
        where TFrom : unmanaged => Array.ConvertAll(MemoryMarshal.Cast<byte, TFrom>(data).ToArray(), v => convert(v));

    /// <summary>Names the input in error messages; formatted only when an error is raised.</summary>
    private readonly record struct Where(string Model, string Input)
    {
        public override string ToString() => $"Input '{Input}' of model '{Model}'";
    }
}
