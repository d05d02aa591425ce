using Cluster.Contracts.Models;

namespace Cluster.Grains.Placement;

/// <summary>
/// Which of a silo's devices a model replica runs on: among the healthy devices of a kind the model allows,
/// a GPU first, then the CPU, then a simulated one; among those, the one hosting the fewest replicas, then
/// the first listed.
/// </summary>
public static class DevicePreference
{
    /// <summary>Lower is preferred.</summary>
    public static int Rank(string kind) => kind switch
    {
        "cuda" => 0,
        "cpu" => 1,
        _ => 2,
    };

    /// <summary>The devices of the preferred kind that <paramref name="config"/> allows; empty when none.</summary>
    public static List<T> Eligible<T>(IEnumerable<T> devices, ModelConfig config, Func<T, string> kind, Func<T, bool> healthy)
    {
        ArgumentNullException.ThrowIfNull(config);
        var allowed = devices.Where(d => healthy(d) && config.AllowsDeviceKind(kind(d))).ToList();
        return allowed.Count == 0 ? allowed : [.. allowed.Where(d => Rank(kind(d)) == allowed.Min(a => Rank(kind(a))))];
    }

    /// <summary>The device a new replica should use, or default when none is eligible.</summary>
    public static T? Choose<T>(IEnumerable<T> devices, ModelConfig config, Func<T, string> kind, Func<T, bool> healthy, Func<T, int> replicasOn) =>
        Eligible(devices, config, kind, healthy).OrderBy(replicasOn).FirstOrDefault();
}
