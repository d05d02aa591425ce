using Cluster.Contracts.Models;

namespace Cluster.Grains.Placement;

/// <summary>
/// Which of a silo's devices a model replica may run on: the healthy devices of a kind the model allows,
/// GPUs first, else the CPU, else simulated ones. The replica takes the one hosting the fewest replicas.
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
}
