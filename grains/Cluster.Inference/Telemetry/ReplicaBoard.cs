using System.Collections.Concurrent;

namespace Cluster.Inference.Telemetry;

/// <summary>The model replicas ready on this silo, for the <c>cluster_model_replicas</c> gauge. Thread-safe.</summary>
public sealed class ReplicaBoard
{
    private readonly ConcurrentDictionary<string, (string Model, long Version, string Silo)> _ready = new();

    /// <summary>A replica on <paramref name="silo"/> finished loading and warming up.</summary>
    public void Ready(string key, string model, long version, string silo) => _ready[key] = (model, version, silo);

    /// <summary>A replica stopped or deactivated.</summary>
    public void Gone(string key) => _ready.TryRemove(key, out _);

    /// <summary>Ready replicas per model version.</summary>
    public IEnumerable<((string Model, long Version, string Silo) Target, int Count)> Counts() =>
        _ready.Values.GroupBy(v => v).Select(g => (g.Key, g.Count()));
}
