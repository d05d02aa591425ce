using Cluster.Contracts.Experiments;

namespace Cluster.Contracts.Models;

/// <summary>A model in the repository: its configuration and the versions found on disk.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelDescriptor
{
    /// <summary>The model's name (its folder in the repository).</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The serving configuration.</summary>
    [Id(1)] public required ModelConfig Config { get; init; }

    /// <summary>Every version found, newest first.</summary>
    [Id(2)] public required ModelVersionDescriptor[] Versions { get; init; }

    /// <summary>Set when the model's folder or configuration could not be read; the model then serves nothing.</summary>
    [Id(3)] public string? Error { get; init; }

    /// <summary>Set when an operator unloaded the model; it serves nothing until loaded again.</summary>
    [Id(4)] public bool Unloaded { get; init; }

    /// <summary>How requests that name no version are shared between served versions; empty sends them all to the newest.</summary>
    [Id(5)] public VersionWeight[] TrafficSplit { get; init; } = [];

    /// <summary>The experiment running on the model (it takes the requests that name no version); null when none.</summary>
    [Id(6)] public Experiment? Experiment { get; init; }

    /// <summary>The versions the version policy serves, newest first.</summary>
    public ModelVersionDescriptor[] ServedVersions
    {
        get
        {
            var served = Config.VersionPolicy.Select(Versions.Select(v => v.Version).ToArray());
            return Versions.Where(v => served.Contains(v.Version)).ToArray();
        }
    }

    /// <summary>Whether <paramref name="version"/> serves, and if not, why (unloaded, the model's or the version's error, or the version policy).</summary>
    public (bool Ready, string Reason) StateOf(ModelVersionDescriptor version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var reason = Unloaded ? "unloaded"
            : Error ?? version.Error ?? (Array.Exists(ServedVersions, v => v.Version == version.Version) ? "" : "not served by the version policy");
        return (reason.Length == 0, reason);
    }
}

/// <summary>One version of a model: its tensors as the ONNX file declares them, or why it cannot be served.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelVersionDescriptor
{
    /// <summary>The version number (its folder name).</summary>
    [Id(0)] public required long Version { get; init; }

    /// <summary>The inputs, in the model's order.</summary>
    [Id(1)] public required TensorSpec[] Inputs { get; init; }

    /// <summary>The outputs, in the model's order.</summary>
    [Id(2)] public required TensorSpec[] Outputs { get; init; }

    /// <summary>Set when the ONNX file could not be loaded (ONNX Runtime's message); the version then serves nothing.</summary>
    [Id(3)] public string? Error { get; init; }

    /// <summary>The size of its ONNX file: the device memory one session instance is taken to hold.</summary>
    [Id(4)] public long SizeBytes { get; init; }

    /// <summary>Whether the version is a decoder served as a text generator.</summary>
    [Id(5)] public bool Generates { get; init; }

    /// <summary>Whether the version can be served.</summary>
    public bool IsLoadable => Error is null;
}
