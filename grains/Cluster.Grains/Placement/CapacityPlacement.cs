using Orleans.Placement;

namespace Cluster.Grains.Placement;

/// <summary>Places a model replica on the silo with the most spare capacity that can host it (see <see cref="ReplicaPlacementScoring"/>).</summary>
[GenerateSerializer, Immutable]
public sealed class CapacityPlacement : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static CapacityPlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="CapacityPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class CapacityPlacementAttribute() : PlacementAttribute(CapacityPlacement.Instance);
