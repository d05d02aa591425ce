using System.Globalization;
using System.Text;
using Cluster.Client.Tensors;
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
        var codec = ElementCodecs.For(spec.ElementType)
            ?? throw new UsageException($"Input '{spec.Name}' is {spec.ElementType.ToProtocolName()}, which the console cannot type in.");
        try
        {
            return codec.ParseText(spec.Name, items, shape);
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
    public static string[] Values(TensorData tensor) => ElementCodecs.For(tensor.ElementType)?.FormatText(tensor) ?? [$"<{tensor.Data.Length} bytes>"];

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
}
