using Cluster.Contracts.Tensors;

namespace Cluster.Contracts.Models;

/// <summary>One Triton <c>model_warmup</c> entry: synthetic requests run on every new session before it serves.</summary>
[GenerateSerializer, Immutable]
public sealed record WarmupSetting
{
    /// <summary>A name for logs.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>Batch size of each warm-up request (1 when the model has no batch dimension).</summary>
    [Id(1)] public int BatchSize { get; init; } = 1;

    /// <summary>How many times to run it.</summary>
    [Id(2)] public int Count { get; init; } = 1;

    /// <summary>The inputs, by name.</summary>
    [Id(3)] public required WarmupInput[] Inputs { get; init; }
}

/// <summary>A warm-up input: its type, its dimensions without the batch dimension, and where its data comes from.</summary>
[GenerateSerializer, Immutable]
public sealed record WarmupInput
{
    /// <summary>The model input's name.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The element type.</summary>
    [Id(1)] public required TensorElementType ElementType { get; init; }

    /// <summary>Dimensions without the batch dimension.</summary>
    [Id(2)] public required long[] Dims { get; init; }

    /// <summary>Zero, random, or read from a file.</summary>
    [Id(3)] public required WarmupData Data { get; init; }

    /// <summary>For <see cref="WarmupData.File"/>: the raw little-endian bytes' file, in the model's <c>warmup</c> folder.</summary>
    [Id(4)] public string? File { get; init; }
}

/// <summary>Where warm-up data comes from.</summary>
public enum WarmupData
{
    /// <summary>All zeros (empty strings for BYTES).</summary>
    Zero,

    /// <summary>Random values.</summary>
    Random,

    /// <summary>Raw bytes from a file.</summary>
    File,
}
