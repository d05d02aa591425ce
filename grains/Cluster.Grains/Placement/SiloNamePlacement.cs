using Orleans.Placement;

namespace Cluster.Grains.Placement;

/// <summary>Places a grain on the silo named by its key's first segment (<c>{silo}/...</c>).</summary>
[GenerateSerializer, Immutable]
public sealed class SiloNamePlacement : PlacementStrategy
{
    /// <summary>The shared instance.</summary>
    public static SiloNamePlacement Instance { get; } = new();
}

/// <summary>Marks a grain class as placed by <see cref="SiloNamePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloNamePlacementAttribute() : PlacementAttribute(SiloNamePlacement.Instance);
