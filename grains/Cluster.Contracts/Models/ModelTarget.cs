using Cluster.Contracts.Experiments;

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

    /// <summary>
    /// Set when no version was asked for and the model's traffic is split: callers choose a version per
    /// request with <see cref="Models.TrafficSplit.Choose"/> rather than reuse <see cref="Version"/>.
    /// </summary>
    [Id(3)] public VersionWeight[] TrafficSplit { get; init; } = [];

    /// <summary>
    /// Set when no version was asked for and the model runs an experiment: callers choose an arm per request with
    /// <see cref="ExperimentAssignment.Choose"/> and send it to that arm's replica.
    /// </summary>
    [Id(4)] public Experiment? Experiment { get; init; }

    /// <summary>The experiment arm this target serves (<see cref="Experiments.Experiment.ReplicaArm"/>), its settings applied to <see cref="Config"/>; empty
    /// outside experiments.</summary>
    [Id(5)] public string Arm { get; init; } = "";

    /// <summary>
    /// The sessions a device runs this target on: empty for the ones its version shares, else the arm's own
    /// (<see cref="Arm"/>, when the arm changes a setting sessions are built from, see <see cref="ArmOverrides.NeedsOwnSessions"/>).
    /// </summary>
    [Id(6)] public string SessionPool { get; init; } = "";

    /// <summary>
    /// The variant an experiment arm's sessions load on every device (<see cref="ArmOverrides.Variant"/>); empty: the one that
    /// suits the device.
    /// </summary>
    [Id(8)] public string Variant { get; init; } = "";

    /// <summary>
    /// Whether the caller named <see cref="Version"/> (set by the gRPC edge's client, which sends a versionless request without a
    /// version so that the edge applies the model's traffic split and experiment).
    /// </summary>
    [Id(7)] public bool VersionAsked { get; init; }
}
