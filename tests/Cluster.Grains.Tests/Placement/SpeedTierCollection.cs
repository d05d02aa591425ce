namespace Cluster.Grains.Tests.Placement;

/// <summary>
/// The speed-tier cluster tests measure how work splits by device speed and survive a silo stopping;
/// they run alone, after the other tests, so no other cluster of this assembly takes the cores meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SpeedTierCollection
{
    public const string Name = "speed-tier";
}
