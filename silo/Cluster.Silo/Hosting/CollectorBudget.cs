namespace Cluster.Silo.Hosting;

/// <summary>
/// The garbage collector's gen0 budget a silo is deployed with: 64 MiB per collector heap, set in the environment by the
/// silo's launch settings, the container images and <c>deploy/local/fleet.sh</c> (the runtime reads it from nowhere else).
/// </summary>
public static class CollectorBudget
{
    /// <summary>The environment variable the runtime reads the budget from.</summary>
    public const string Variable = "DOTNET_GCgen0size";

    /// <summary>The budget, as the variable holds it (bytes, hexadecimal).</summary>
    public const string Recommended = "0x4000000";
}
