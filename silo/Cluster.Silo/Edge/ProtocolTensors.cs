using System.Runtime.InteropServices;
using Cluster.Client.Protocol;
using Cluster.Client.Tensors;
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
    /// <summary>
    /// The last input shape read on this thread. A request of the same shape shares its array: tensors are immutable, so no holder
    /// changes it, and a stream of like requests allocates no shapes.
    /// </summary>
    [ThreadStatic]
    private static long[]? t_lastShape;

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

        var shape = ShapeOf(input.Shape);
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

    private static long[] ShapeOf(RepeatedField<long> dimensions)
    {
        if (t_lastShape is { } last && last.Length == dimensions.Count)
        {
            var same = true;
            for (var d = 0; d < last.Length && same; d++)
            {
                same = last[d] == dimensions[d];
            }

            if (same)
            {
                return last;
            }
        }

        return t_lastShape = dimensions.ToArray();
    }

    /// <summary>Writes one output into <paramref name="output"/> (an empty one; new when null), typed unless <paramref name="raw"/> gets the bytes.</summary>
    public static OutputTensor Write(TensorData tensor, RepeatedField<ByteString>? raw, OutputTensor? output = null)
    {
        output ??= new OutputTensor();
        output.Name = tensor.Name;
        output.Datatype = tensor.ElementType.ToProtocolName();
        output.Shape.Add(tensor.Shape);
        if (raw is not null)
        {
            // The response owns the tensor's bytes from here on, so no copy is needed.
            raw.Add(UnsafeByteOperations.UnsafeWrap(tensor.Data));
            return output;
        }

        var codec = ElementCodecs.For(tensor.ElementType);
        if (codec?.ContentsField is null)
        {
            throw new InvalidOperationException($"Output '{tensor.Name}' is {tensor.ElementType.ToProtocolName()}, which travels only raw.");
        }

        output.Contents = new InferTensorContents();
        codec.WriteContents(tensor, output.Contents);
        return output;
    }

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
        var codec = ElementCodecs.For(type)!;
        if (codec.ContentsField is null)
        {
            throw new InvalidInputException($"{where}: {type.ToProtocolName()} data travels only in raw_input_contents.");
        }

        var contents = input.Contents ?? new InferTensorContents();
        var given = codec.CountIn(contents);
        if (given != count)
        {
            throw new InvalidInputException($"{where}: contents.{codec.ContentsField} has {given} values; shape {TensorShape.Format(shape)} needs {count}.");
        }

        try
        {
            return new TensorData { Name = input.Name, ElementType = type, Shape = shape, Data = codec.ReadContents(contents) };
        }
        catch (OverflowException e)
        {
            throw new InvalidInputException($"{where}: {e.Message}");
        }
    }

    /// <summary>Names the input in error messages; formatted only when an error is raised.</summary>
    private readonly record struct Where(string Model, string Input)
    {
        public override string ToString() => $"Input '{Input}' of model '{Model}'";
    }
}
