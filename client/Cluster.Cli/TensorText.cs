using System.Globalization;
using System.Text;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Cli;

/// <summary>Turns comma-separated values into tensors of a model input's type, and tensors back into text.</summary>
public static class TensorText
{
    private const int MaxPrintedValues = 64;

    /// <summary>Parses <paramref name="text"/> (comma-separated) as values of <paramref name="spec"/>, shaped by <paramref name="shape"/> or inferred from the
    /// spec.</summary>
    public static TensorData Parse(TensorSpec spec, string text, long[]? shape)
    {
        var items = spec.ElementType == TensorElementType.String ? text.Split(',')
            : text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        shape ??= InferShape(spec, items.Length);
        try
        {
            return spec.ElementType switch
            {
                TensorElementType.Float32 =>
                    TensorData.FromFloat32(spec.Name, Array.ConvertAll(items, s => float.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Float16 =>
                    TensorData.FromFloat16(spec.Name, Array.ConvertAll(items, s => Half.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Float64 =>
                    TensorData.FromFloat64(spec.Name, Array.ConvertAll(items, s => double.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Int32 => TensorData.FromInt32(spec.Name, Array.ConvertAll(items, s => int.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Int64 => TensorData.FromInt64(spec.Name, Array.ConvertAll(items, s => long.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.UInt8 => TensorData.FromUInt8(spec.Name, Array.ConvertAll(items, s => byte.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Int8 =>
                    TensorData.FromValues(spec.Name, spec.ElementType, Array.ConvertAll(items, s => sbyte.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Int16 =>
                    TensorData.FromValues(spec.Name, spec.ElementType, Array.ConvertAll(items, s => short.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.UInt16 =>
                    TensorData.FromValues(spec.Name, spec.ElementType, Array.ConvertAll(items, s => ushort.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.UInt32 =>
                    TensorData.FromValues(spec.Name, spec.ElementType, Array.ConvertAll(items, s => uint.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.UInt64 =>
                    TensorData.FromValues(spec.Name, spec.ElementType, Array.ConvertAll(items, s => ulong.Parse(s, CultureInfo.InvariantCulture)), shape),
                TensorElementType.Bool => TensorData.FromBool(spec.Name, Array.ConvertAll(items, ParseBool), shape),
                TensorElementType.String => TensorData.FromStrings(spec.Name, items, shape),
                _ => throw new UsageException($"Input '{spec.Name}' is {spec.ElementType.ToProtocolName()}, which the console cannot type in."),
            };
        }
        catch (FormatException e)
        {
            throw new UsageException($"Input '{spec.Name}' ({spec.ElementType.ToProtocolName()}): '{text}' is not a list of such values: {e.Message}");
        }
        catch (OverflowException e)
        {
            throw new UsageException($"Input '{spec.Name}' ({spec.ElementType.ToProtocolName()}): a value is out of range: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Parses a shape written <c>2x4</c>.</summary>
    public static long[] ParseShape(string text) =>
        Array.ConvertAll(text.Split('x', StringSplitOptions.TrimEntries), d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UsageException($"Shape '{text}' is not of the form 2x4."));

    /// <summary>One line per output: name, datatype, shape, then the values.</summary>
    public static string Format(TensorData tensor)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{tensor.Name} {tensor.ElementType.ToProtocolName()} {TensorShape.Format(tensor.Shape)}: ");
        var values = Values(tensor);
        text.AppendJoin(", ", values.Take(MaxPrintedValues));
        if (values.Length > MaxPrintedValues)
        {
            text.Append(CultureInfo.InvariantCulture, $", ... ({values.Length} values)");
        }

        return text.ToString();
    }

    /// <summary>The tensor's values as invariant-culture strings.</summary>
    public static string[] Values(TensorData tensor) => tensor.ElementType switch
    {
        TensorElementType.Float32 => Array.ConvertAll(tensor.AsFloat32(), v => v.ToString("G7", CultureInfo.InvariantCulture)),
        TensorElementType.Float16 => Array.ConvertAll(tensor.AsFloat16(), v => v.ToString(CultureInfo.InvariantCulture)),
        TensorElementType.Float64 => Array.ConvertAll(tensor.AsFloat64(), v => v.ToString("G15", CultureInfo.InvariantCulture)),
        TensorElementType.Int32 => Array.ConvertAll(tensor.AsInt32(), v => v.ToString(CultureInfo.InvariantCulture)),
        TensorElementType.Int64 => Array.ConvertAll(tensor.AsInt64(), v => v.ToString(CultureInfo.InvariantCulture)),
        TensorElementType.UInt8 => Array.ConvertAll(tensor.AsUInt8(), v => v.ToString(CultureInfo.InvariantCulture)),
        TensorElementType.Bool => Array.ConvertAll(tensor.AsBool(), v => v ? "true" : "false"),
        TensorElementType.String => tensor.AsStrings(),
        _ => [$"<{tensor.Data.Length} bytes>"],
    };

    private static long[] InferShape(TensorSpec spec, int count)
    {
        // Fixed dimensions stay; the last dynamic one takes what the values leave over; other dynamic ones are 1.
        long fixedProduct = 1;
        foreach (var d in spec.Shape)
        {
            fixedProduct *= d > 0 ? d : 1;
        }

        var shape = new long[spec.Shape.Length];
        var last = Array.FindLastIndex(spec.Shape, d => d < 0);
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = spec.Shape[i] >= 0 ? spec.Shape[i] : i == last ? Math.Max(1, count / fixedProduct) : 1;
        }

        return shape;
    }

    private static bool ParseBool(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException($"'{value}' is not true/false/1/0."),
    };
}
