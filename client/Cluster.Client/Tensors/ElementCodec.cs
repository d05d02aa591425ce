using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;

namespace Cluster.Client.Tensors;

/// <summary>
/// How the elements of one <see cref="TensorElementType"/> are read and written in each form the cluster speaks: the
/// Open Inference Protocol's typed contents, REST JSON values and the console's text. The raw form is the tensor's own
/// bytes (<see cref="TensorData.Data"/>). <see cref="ElementCodecs.For"/> holds the one table of them.
/// </summary>
public abstract class ElementCodec
{
    /// <summary>The element type this codec reads and writes.</summary>
    public abstract TensorElementType Type { get; }

    /// <summary>The typed-contents field that carries the type (<c>fp32_contents</c>, ...), or null when it travels only raw.</summary>
    public abstract string? ContentsField { get; }

    /// <summary>How many values <paramref name="contents"/> holds in the type's field.</summary>
    public abstract int CountIn(InferTensorContents contents);

    /// <summary>The tensor bytes of the values in the type's field; an <see cref="OverflowException"/> names a value out of range.</summary>
    public abstract byte[] ReadContents(InferTensorContents contents);

    /// <summary>Adds the tensor's values to the type's field of <paramref name="contents"/>.</summary>
    public abstract void WriteContents(TensorData tensor, InferTensorContents contents);

    /// <summary>
    /// The tensor bytes of JSON values; a <see cref="FormatException"/> or <see cref="InvalidOperationException"/> when one is not of the type.
    /// </summary>
    public abstract byte[] ReadJson(IReadOnlyList<JsonElement> values);

    /// <summary>The tensor's values as JSON; non-finite floats as Triton writes them (<see cref="NonFiniteNumbers"/>).</summary>
    public abstract JsonArray WriteJson(TensorData tensor);

    /// <summary>A tensor of text values; a <see cref="FormatException"/> or <see cref="OverflowException"/> for a bad value, an
    /// <see cref="ArgumentException"/> when the shape does not hold them.</summary>
    public abstract TensorData ParseText(string name, IReadOnlyList<string> items, long[] shape);

    /// <summary>The tensor's values as invariant-culture text.</summary>
    public abstract string[] FormatText(TensorData tensor);
}
