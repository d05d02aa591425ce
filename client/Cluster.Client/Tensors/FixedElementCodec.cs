using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;

namespace Cluster.Client.Tensors;

/// <summary>
/// A fixed-size element type held in memory as <typeparamref name="T"/> and in the protocol's typed contents as
/// <typeparamref name="TWire"/>.
/// </summary>
public sealed class FixedElementCodec<T, TWire>(TensorElementType type) : ElementCodec
    where T : unmanaged
{
    /// <inheritdoc/>
    public override TensorElementType Type => type;

    /// <summary>The typed-contents field, or null for a type that travels only raw.</summary>
    public ContentsField<T, TWire>? Contents { get; init; }

    /// <summary>A JSON value as an element; throws when it is not of the type.</summary>
    public required Func<JsonElement, T> FromJson { get; init; }

    /// <summary>An element as a JSON value.</summary>
    public required Func<T, JsonNode> ToJson { get; init; }

    /// <summary>Invariant-culture text as an element.</summary>
    public required Func<string, T> Parse { get; init; }

    /// <summary>An element as invariant-culture text.</summary>
    public required Func<T, string> Format { get; init; }

    /// <inheritdoc/>
    public override string? ContentsField => Contents?.Name;

    /// <inheritdoc/>
    public override int CountIn(InferTensorContents contents) => Field.Of(contents).Count;

    /// <inheritdoc/>
    public override byte[] ReadContents(InferTensorContents contents)
    {
        var values = Field.Of(contents);
        var bytes = new byte[values.Count * type.SizeOf()];
        var elements = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        for (var i = 0; i < elements.Length; i++)
        {
            try
            {
                elements[i] = Field.Narrow(values[i]);
            }
            catch (OverflowException)
            {
                throw new OverflowException($"value {values[i]} at index {i} is out of range for its datatype.");
            }
        }

        return bytes;
    }

    /// <inheritdoc/>
    public override void WriteContents(TensorData tensor, InferTensorContents contents)
    {
        var field = Field.Of(contents);
        foreach (var element in MemoryMarshal.Cast<byte, T>(tensor.Data))
        {
            field.Add(Field.Widen(element));
        }
    }

    /// <inheritdoc/>
    public override byte[] ReadJson(IReadOnlyList<JsonElement> values)
    {
        var bytes = new byte[values.Count * type.SizeOf()];
        var elements = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        for (var i = 0; i < elements.Length; i++)
        {
            elements[i] = FromJson(values[i]);
        }

        return bytes;
    }

    /// <inheritdoc/>
    public override JsonArray WriteJson(TensorData tensor)
    {
        var values = new JsonArray();
        foreach (var element in MemoryMarshal.Cast<byte, T>(tensor.Data))
        {
            values.Add(ToJson(element));
        }

        return values;
    }

    /// <inheritdoc/>
    public override TensorData ParseText(string name, IReadOnlyList<string> items, long[] shape) =>
        TensorData.FromValues<T>(name, type, items.Select(Parse).ToArray(), shape);

    /// <inheritdoc/>
    public override string[] FormatText(TensorData tensor) => [.. MemoryMarshal.Cast<byte, T>(tensor.Data).ToArray().Select(Format)];

    private ContentsField<T, TWire> Field =>
        Contents ?? throw new InvalidOperationException($"{type.ToProtocolName()} travels only in raw contents.");
}
