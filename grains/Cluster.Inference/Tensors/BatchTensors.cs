using System.Buffers;
using Cluster.Contracts.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Tensors;

/// <summary>
/// Joins the requests of a batch into one ONNX Runtime input per model input, and splits outputs back.
/// A lone request's bytes are pinned where they are; several are copied once into a pooled buffer.
/// </summary>
public static class BatchTensors
{
    /// <summary>The batch's tensor for input <paramref name="index"/>; dispose it after the run.</summary>
    public static MergedInput Merge(IReadOnlyList<TensorData[]> requests, int index)
    {
        var first = requests[0][index];
        if (requests.Count == 1)
        {
            return new MergedInput(OrtTensorBridge.ToOrtValue(first, out var ownPin), ownPin, null);
        }

        var shape = (long[])first.Shape.Clone();
        shape[0] = 0;
        if (first.ElementType == TensorElementType.String)
        {
            var strings = new List<string>();
            for (var r = 0; r < requests.Count; r++)
            {
                shape[0] += requests[r][index].Shape[0];
                strings.AddRange(requests[r][index].AsStrings());
            }

            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            for (var i = 0; i < strings.Count; i++)
            {
                value.StringTensorSetElementAt(strings[i].AsSpan(), i);
            }

            return new MergedInput(value, default, null);
        }

        (shape, var bytes) = MergedShape(requests, index);
        var buffer = ArrayPool<byte>.Shared.Rent(bytes);
        CopyRows(requests, index, buffer);
        var pin = buffer.AsMemory(0, bytes).Pin();
        try
        {
            unsafe
            {
                var merged = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, first.ElementType.ToOrt(), shape, (IntPtr)pin.Pointer, bytes);
                return new MergedInput(merged, pin, buffer);
            }
        }
        catch
        {
            pin.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The shape and byte count of input <paramref name="index"/> of a batch of fixed-size tensors: the requests' rows stacked.</summary>
    public static (long[] Shape, int Bytes) MergedShape(IReadOnlyList<TensorData[]> requests, int index)
    {
        var shape = (long[])requests[0][index].Shape.Clone();
        shape[0] = 0;
        var bytes = 0;
        for (var r = 0; r < requests.Count; r++)
        {
            shape[0] += requests[r][index].Shape[0];
            bytes += requests[r][index].Data.Length;
        }

        return (shape, bytes);
    }

    /// <summary>Copies each request's bytes of input <paramref name="index"/>, in request order, to the start of <paramref name="destination"/>.</summary>
    public static void CopyRows(IReadOnlyList<TensorData[]> requests, int index, Span<byte> destination)
    {
        var offset = 0;
        for (var r = 0; r < requests.Count; r++)
        {
            var data = requests[r][index].Data;
            data.CopyTo(destination[offset..]);
            offset += data.Length;
        }
    }

    /// <summary>Splits a batch output into one tensor per request, <paramref name="rows"/>[r] rows each.</summary>
    public static void Split(string name, OrtValue output, int[] rows, TensorData[][] outputs, int outputIndex)
    {
        if (rows.Length == 1)
        {
            outputs[0][outputIndex] = OrtTensorBridge.FromOrtValue(name, output);
            return;
        }

        var info = output.GetTensorTypeAndShape();
        var type = OrtElementTypes.FromOrt(info.ElementDataType);
        var shape = info.Shape;
        var perRow = TensorShape.ElementCount(shape.AsSpan(1));
        if (type == TensorElementType.String)
        {
            var all = output.GetStringTensorAsArray();
            var start = 0;
            for (var r = 0; r < rows.Length; r++)
            {
                var count = checked((int)(rows[r] * perRow));
                outputs[r][outputIndex] = TensorData.FromStrings(name, all[start..(start + count)], RowShape(shape, rows[r]));
                start += count;
            }

            return;
        }

        var source = output.GetTensorMutableRawData();
        var rowBytes = checked((int)(perRow * type.SizeOf()));
        var offset = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            var length = rows[r] * rowBytes;
            outputs[r][outputIndex] =
                new TensorData { Name = name, ElementType = type, Shape = RowShape(shape, rows[r]), Data = source.Slice(offset, length).ToArray() };
            offset += length;
        }
    }

    private static long[] RowShape(long[] batchShape, int rows)
    {
        var shape = (long[])batchShape.Clone();
        shape[0] = rows;
        return shape;
    }
}

/// <summary>A batch input: the ONNX Runtime value, the pin on its bytes and the pooled buffer to return.</summary>
public readonly struct MergedInput(OrtValue value, MemoryHandle pin, byte[]? pooled) : IDisposable
{
    /// <summary>The value to pass to the run.</summary>
    public OrtValue Value { get; } = value;

    /// <inheritdoc />
    public void Dispose()
    {
        Value.Dispose();
        pin.Dispose();
        if (pooled is not null)
        {
            ArrayPool<byte>.Shared.Return(pooled);
        }
    }
}
