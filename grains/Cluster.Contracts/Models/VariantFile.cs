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

    /// <summary>Whether a device of <paramref name="kind"/> loads this file.</summary>
    public bool Suits(string kind) => ModelConfig.KindAllowed(DeviceKinds, kind);
}
