using System.Globalization;
using Cluster.Grains.Tests;

namespace Cluster.Edge.Tests.Overload;

/// <summary>
/// One in-process silo serving <see cref="Model"/>: tiny_classifier's graph on a simulated device that takes the same fixed
/// time for every batch, whatever its size, so a test knows the model's capacity exactly.
/// </summary>
internal static class SlowSimCluster
{
    public const string Model = "slow_sim";

    /// <summary>Starts the silo with the model's <paramref name="config"/> (config.json) and any further <paramref name="settings"/>.</summary>
    public static Task<InProcessCluster> StartAsync(string siloName, TimeSpan batchTime, string config,
        Dictionary<string, string?>? settings = null) => InProcessCluster.StartAsync(
        [siloName],
        perSilo: _ => new(settings ?? [])
        {
            ["Cluster:Devices:Simulated:0:Profile"] = "slow",
            ["Cluster:Devices:Simulated:0:FixedLatencyMicroseconds"] =
                ((long)batchTime.TotalMicroseconds).ToString(CultureInfo.InvariantCulture),
            ["Cluster:Devices:Simulated:0:PerItemMicroseconds"] = "0",
        },
        prepareRepository: repository => ClassifierCopies.Add(repository, Model, config));
}
