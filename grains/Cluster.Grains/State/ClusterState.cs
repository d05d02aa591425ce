using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;

namespace Cluster.Grains.State;

/// <summary>The grain storage that keeps the operator's decisions.</summary>
public static class ClusterState
{
    /// <summary>The name of the grain storage provider both the registry and the admin grain write to.</summary>
    public const string StorageName = "cluster-state";
}

/// <summary>The registry's stored decisions, per model name.</summary>
[GenerateSerializer]
public sealed class CatalogIntent
{
    /// <summary>Decisions per model; a model without an entry serves as its <c>config.json</c> says.</summary>
    [Id(0)] public Dictionary<string, ModelIntent> Models { get; set; } = [];
}

/// <summary>What an operator decided about one model; null members keep the model's <c>config.json</c> value.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelIntent
{
    /// <summary>The model serves nothing until loaded again.</summary>
    [Id(0)] public bool Unloaded { get; init; }

    /// <summary>Overrides the version policy.</summary>
    [Id(1)] public VersionPolicy? VersionPolicy { get; init; }

    /// <summary>The traffic split between versions; empty means none.</summary>
    [Id(2)] public VersionWeight[] TrafficSplit { get; init; } = [];

    /// <summary>Overrides <c>min_replicas</c>.</summary>
    [Id(3)] public int? MinReplicas { get; init; }

    /// <summary>Overrides <c>max_replicas</c>.</summary>
    [Id(4)] public int? MaxReplicas { get; init; }

    /// <summary>The experiment running on the model; null when none.</summary>
    [Id(5)] public Experiment? Experiment { get; init; }

    /// <summary>The settings of an experiment arm that was promoted to be the model's configuration.</summary>
    [Id(6)] public ArmOverrides? Promoted { get; init; }

    /// <summary>The catalogue entry read from disk with these decisions applied.</summary>
    public ModelDescriptor ApplyTo(ModelDescriptor model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model with
        {
            Unloaded = Unloaded,
            TrafficSplit = TrafficSplit,
            Experiment = Experiment,
            Config = (Promoted?.ApplyTo(model.Config) ?? model.Config) with
            {
                VersionPolicy = VersionPolicy ?? model.Config.VersionPolicy,
                MinReplicas = MinReplicas ?? model.Config.MinReplicas,
                MaxReplicas = MaxReplicas ?? model.Config.MaxReplicas,
            },
        };
    }
}

/// <summary>The admin grain's stored decisions.</summary>
[GenerateSerializer]
public sealed class AdminIntent
{
    /// <summary>Silos marked draining, by name.</summary>
    [Id(0)] public List<string> DrainingSilos { get; set; } = [];
}
