namespace Cluster.Inference.Telemetry;

/// <summary>Where a silo runs, as metric labels: from the silo metadata keys <c>cloud</c> and <c>region</c>.</summary>
public sealed record SiloLabels(string Cloud, string Region)
{
    /// <summary>A silo with no metadata.</summary>
    public static SiloLabels Local { get; } = new("local", "local");
}
