using Orleans.Placement;

namespace Cluster.Grains.Placement;

/// <summary>The cluster's default placement, minus the silos an operator marked draining.</summary>
[GenerateSerializer, Immutable]
public sealed class DrainAwarePlacement : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static DrainAwarePlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="DrainAwarePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class DrainAwarePlacementAttribute() : PlacementAttribute(DrainAwarePlacement.Instance);
