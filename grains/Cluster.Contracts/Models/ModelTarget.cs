namespace Cluster.Contracts.Models;

/// <summary>A resolved model version with the configuration it is served under.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelTarget
{
    /// <summary>The model's name.</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary>The serving configuration.</summary>
    [Id(1)] public required ModelConfig Config { get; init; }

    /// <summary>The version and its tensors.</summary>
    [Id(2)] public required ModelVersionDescriptor Version { get; init; }
}
