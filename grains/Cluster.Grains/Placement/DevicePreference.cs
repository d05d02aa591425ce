using Cluster.Contracts.Models;

namespace Cluster.Grains.Placement;

/// <summary>Which of a silo's devices a model replica runs on: a GPU first, then the CPU, then a simulated one, among the kinds the model allows.</summary>
public static class DevicePreference
{
    /// <summary>Lower is preferred.</summary>
    public static int Rank(string kind) => kind switch
    {
        "cuda" => 0,
        "cpu" => 1,
        _ => 2,
    };

    /// <summary>The preferred healthy device of <paramref name="devices"/> that <paramref name="config"/> allows, or default when none.</summary>
    public static T? Choose<T>(IEnumerable<T> devices, ModelConfig config, Func<T, string> kind, Func<T, bool> healthy)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(config);
        var found = false;
        T? best = default;
        foreach (var device in devices)
        {
            if (healthy(device) && config.AllowsDeviceKind(kind(device)) && (!found || Rank(kind(device)) < Rank(kind(best!))))
            {
                (best, found) = (device, true);
            }
        }

        return best;
    }
}
