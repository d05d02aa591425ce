namespace Cluster.Contracts.Models;

/// <summary>
/// One file a model's <c>config.json</c> declares under <c>variants</c>: a file in each version folder, its precision
/// (<c>fp32</c>, <c>fp16</c> or <c>int8</c>) and the device kinds it suits.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record VariantFile
{
    /// <summary>The file's name inside each version folder.</summary>
    [Id(0)] public required string File { get; init; }

    /// <summary>Its precision: <c>fp32</c>, <c>fp16</c> or <c>int8</c>.</summary>
    [Id(1)] public required string Precision { get; init; }

    /// <summary>The device kinds (<c>cuda</c>, <c>cpu</c>, <c>sim</c> or <c>sim:&lt;profile&gt;</c>) that load this file.</summary>
    [Id(2)] public required string[] DeviceKinds { get; init; }

    /// <summary>The lowest CUDA compute capability of a device that loads this file (<c>min_compute_capability</c>); null for any.</summary>
    [Id(3)] public Devices.ComputeCapability? MinComputeCapability { get; init; }

    /// <summary>Whether a device of <paramref name="kind"/> loads this file.</summary>
    public bool Suits(string kind) => ModelConfig.KindAllowed(DeviceKinds, kind);

    /// <summary>
    /// Whether a device of <paramref name="kind"/> and compute <paramref name="capability"/> (null when unknown) loads this file: its kind
    /// suits, and it meets <see cref="MinComputeCapability"/> when one is declared (a device of unknown capability does not).
    /// </summary>
    public bool Suits(string kind, Devices.ComputeCapability? capability) =>
        Suits(kind) && (MinComputeCapability is not { } minimum || (capability is { } known && known.Meets(minimum)));
}
