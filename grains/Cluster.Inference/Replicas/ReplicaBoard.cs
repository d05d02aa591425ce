using System.Collections.Concurrent;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Replicas;

/// <summary>
/// The model replicas active on this silo, for the <c>cluster_model_replicas</c> gauge, the silo's load
/// reports, and clients inside the silo that hand requests straight to a local replica. Thread-safe.
/// </summary>
public sealed class ReplicaBoard : ILocalReplicas
{
    private readonly ConcurrentDictionary<string, ReplicaEntry> _replicas = new();

    /// <summary>
    /// A replica on <paramref name="silo"/> starts on whichever of <paramref name="devices"/> hosts the fewest
    /// replicas (the first on a tie), chosen and counted in one step so replicas starting at once spread out;
    /// it takes requests once <see cref="ReplicaEntry.Ready"/>.
    /// </summary>
    public ReplicaEntry Start(string key, string model, long version, string silo, IReadOnlyList<string> devices, Func<(int Queued, int Running)> load)
    {
        ArgumentNullException.ThrowIfNull(devices);
        lock (_replicas)
        {
            var device = devices.MinBy(d => _replicas.Values.Count(r => r.Device == d))!;
            return _replicas[key] = new ReplicaEntry(key, model, version, silo, device, load);
        }
    }

    /// <summary>A replica stopped or deactivated.</summary>
    public void Gone(string key) => _replicas.TryRemove(key, out _);

    /// <inheritdoc />
    public Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>>? Find(string key) =>
        _replicas.TryGetValue(key, out var entry) && entry.Ready && !entry.Retiring ? entry.Serve : null;

    /// <summary>Every replica on the board.</summary>
    public IEnumerable<ReplicaEntry> Entries => _replicas.Values;

    /// <summary>Ready replicas per model version.</summary>
    public IEnumerable<((string Model, long Version, string Silo) Target, int Count)> Counts() =>
        _replicas.Values.Where(v => v.Ready).GroupBy(v => (v.Model, v.Version, v.Silo)).Select(g => (g.Key, g.Count()));
}

/// <summary>One replica: where it runs, whether it takes new requests, and its queue.</summary>
public sealed class ReplicaEntry(string key, string model, long version, string silo, string device, Func<(int Queued, int Running)> load)
{
    private volatile bool _ready;
    private volatile bool _retiring;

    public string Key { get; } = key;

    public string Model { get; } = model;

    public long Version { get; } = version;

    public string Silo { get; } = silo;

    public string Device { get; } = device;

    /// <summary>Set once the replica is loaded and warmed up.</summary>
    public bool Ready
    {
        get => _ready;
        set => _ready = value;
    }

    /// <summary>Set once the replica finishes its queue and takes no new requests.</summary>
    public bool Retiring
    {
        get => _retiring;
        set => _retiring = value;
    }

    /// <summary>Takes a request handed over inside the silo (see <see cref="ILocalReplicas"/>); null until the replica sets it.</summary>
    public Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>>? Serve { get; set; }

    /// <summary>Requests queued and batches running now.</summary>
    public (int Queued, int Running) Load => load();
}
