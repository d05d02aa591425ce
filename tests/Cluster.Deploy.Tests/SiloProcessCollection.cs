namespace Cluster.Deploy.Tests;

/// <summary>
/// Tests that start a fleet of silo processes (three silos and a Redis each) run one after another: two
/// fleets at once on a 2-core machine starve each other past the console's and the callers' timeouts.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SiloProcessCollection
{
    public const string Name = "silo process fleets";
}
