using Cluster.Contracts.Tensors;

namespace Cluster.Contracts.Models;

/// <summary>What a device returns for one batch: each request's outputs, and where the time went.</summary>
[GenerateSerializer, Immutable]
public sealed record BatchResult
{
    /// <summary>Per request (in batch order), its outputs in the order asked.</summary>
    [Id(0)] public required TensorData[][] Outputs { get; init; }

    /// <summary>Time spent assembling inputs, running the model and splitting outputs.</summary>
    [Id(1)] public required BatchTimings Timings { get; init; }
}

/// <summary>Triton's compute phases of one batch, in nanoseconds.</summary>
[GenerateSerializer, Immutable]
public readonly record struct BatchTimings
{
    /// <summary>Copying request inputs into the batch's tensors.</summary>
    [Id(0)] public long InputNanoseconds { get; init; }

    /// <summary>The model run.</summary>
    [Id(1)] public long InferNanoseconds { get; init; }

    /// <summary>Slicing outputs back into per-request tensors.</summary>
    [Id(2)] public long OutputNanoseconds { get; init; }
}
