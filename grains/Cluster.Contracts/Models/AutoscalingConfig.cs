namespace Cluster.Contracts.Models;

/// <summary>
/// How a model version's replica count follows its load (Ray Serve's shape): the wanted count is the
/// version's queued and running work over <see cref="TargetQueuePerReplica"/>, within the model's
/// min/max replicas; it must stay above the current count for <see cref="UpscaleDelay"/> before a replica
/// is added, and below it for <see cref="DownscaleDelay"/> before one is removed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AutoscalingConfig
{
    /// <summary>Queued requests plus running batches each replica should carry.</summary>
    [Id(0)] public double TargetQueuePerReplica { get; init; } = 4;

    /// <summary>How long the load must ask for more replicas before one is added.</summary>
    [Id(1)] public TimeSpan UpscaleDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the load must ask for fewer replicas before one is removed.</summary>
    [Id(2)] public TimeSpan DownscaleDelay { get; init; } = TimeSpan.FromSeconds(60);
}
