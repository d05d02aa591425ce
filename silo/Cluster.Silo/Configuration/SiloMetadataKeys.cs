using System.Globalization;

namespace Cluster.Silo.Configuration;

/// <summary>
/// The silo metadata every other silo can read through Orleans' <c>ISiloMetadataCache</c>: configuration
/// section <c>Orleans:Metadata</c> (environment variables <c>Orleans__Metadata__cloud</c>, ...). Placement
/// reads these keys; other keys are carried as given.
/// </summary>
public static class SiloMetadataKeys
{
    /// <summary>The configuration section Orleans reads silo metadata from.</summary>
    public const string Section = "Orleans:Metadata";

    /// <summary>Cloud provider, e.g. <c>aws</c>, <c>gcp</c>, <c>onprem</c>.</summary>
    public const string Cloud = "cloud";

    /// <summary>Cloud region, e.g. <c>us-east-1</c>.</summary>
    public const string Region = "region";

    /// <summary>Availability zone, e.g. <c>us-east-1a</c>.</summary>
    public const string Zone = "zone";

    /// <summary>Accelerator kind, e.g. <c>h100</c>, <c>a10g</c>, <c>t4</c>, <c>cpu</c>, <c>sim:t4</c>.</summary>
    public const string Accelerator = "accelerator";

    /// <summary>Relative speed of the silo's accelerator (1 = the reference device); a non-negative number.</summary>
    public const string Speed = "speed";

    /// <summary>What the node costs per hour, in any one currency across the fleet; a non-negative number.</summary>
    public const string CostPerHour = "cost_per_hour";

    /// <summary>The keys placement understands.</summary>
    public static IReadOnlyList<string> Known { get; } = [Cloud, Region, Zone, Accelerator, Speed, CostPerHour];

    /// <summary>Problems with the numeric keys, each naming its key; empty when valid.</summary>
    public static IEnumerable<string> Validate(IConfiguration metadata)
    {
        foreach (var key in new[] { Speed, CostPerHour })
        {
            var value = metadata[key];
            if (value is not null && !IsNonNegativeNumber(value))
            {
                yield return $"{Section}:{key} '{value}' is not a non-negative number like 1.5.";
            }
        }
    }

    private static bool IsNonNegativeNumber(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) && number >= 0;
}
