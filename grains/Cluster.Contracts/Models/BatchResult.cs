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

    /// <summary>Token positions the model ran over, for models that pad sequences (zero otherwise).</summary>
    [Id(2)] public TokenCounts Tokens { get; init; }
}

/// <summary>Token positions of padded model runs: real tokens and padding.</summary>
[GenerateSerializer, Immutable]
public readonly record struct TokenCounts
{
    /// <summary>Positions holding real tokens.</summary>
    [Id(0)] public long Real { get; init; }

    /// <summary>Positions holding padding.</summary>
    [Id(1)] public long Padding { get; init; }

    /// <summary>Padding's share of all positions (0 when there were none).</summary>
    public double PaddingFraction => Real + Padding == 0 ? 0 : (double)Padding / (Real + Padding);

    /// <summary>The sum of two counts.</summary>
    public static TokenCounts operator +(TokenCounts a, TokenCounts b) => new() { Real = a.Real + b.Real, Padding = a.Padding + b.Padding };
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
