namespace Cluster.Contracts.Admin;

/// <summary>
/// A model variant written by <c>cluster quantize</c> and how closely it follows the FP32 file on the same inputs:
/// the largest absolute difference over every float output element, and the share of samples whose first output
/// has its largest value at the same position (top-1 agreement).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record VariantReport
{
    /// <summary>The model.</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary>The version whose FP32 file was converted.</summary>
    [Id(1)] public required long Version { get; init; }

    /// <summary>The variant written (<c>int8</c> or <c>fp16</c>).</summary>
    [Id(2)] public required string Variant { get; init; }

    /// <summary>Where the variant was written, on the silo that wrote it.</summary>
    [Id(3)] public required string File { get; init; }

    /// <summary>The silo that wrote it.</summary>
    [Id(4)] public string Silo { get; init; } = "";

    /// <summary>MatMul/Gemm nodes converted (INT8); every node for FP16.</summary>
    [Id(5)] public int ConvertedNodes { get; init; }

    /// <summary>Samples compared (rows of the first dimension).</summary>
    [Id(6)] public int Samples { get; init; }

    /// <summary>Largest absolute difference from FP32 over every float output element.</summary>
    [Id(7)] public double MaxAbsDifference { get; init; }

    /// <summary>Share of samples with the same top-1 position in the first output, in [0, 1].</summary>
    [Id(8)] public double Top1Agreement { get; init; }

    /// <summary>Size of the FP32 file in bytes.</summary>
    [Id(9)] public long Fp32Bytes { get; init; }

    /// <summary>Size of the variant file in bytes.</summary>
    [Id(10)] public long VariantBytes { get; init; }

    /// <summary>What both files ran on: <c>warmup</c> (the model's configured warm-up requests) or <c>random</c> (float32 inputs in [-1, 1)).</summary>
    [Id(11)] public string Inputs { get; init; } = "random";
}
