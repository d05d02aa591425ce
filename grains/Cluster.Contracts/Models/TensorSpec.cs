using Cluster.Contracts.Tensors;

namespace Cluster.Contracts.Models;

/// <summary>A model input or output as the ONNX file declares it.</summary>
[GenerateSerializer, Immutable]
public sealed record TensorSpec
{
    /// <summary>The tensor's name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The element type.</summary>
    [Id(1)] public required TensorElementType ElementType { get; init; }

    /// <summary>The dimensions; -1 marks a dynamic one.</summary>
    [Id(2)] public required long[] Shape { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {ElementType.ToProtocolName()} {TensorShape.Format(Shape)}";
}
