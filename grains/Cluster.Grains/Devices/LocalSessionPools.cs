using System.Collections.Concurrent;

namespace Cluster.Grains.Devices;

/// <summary>
/// The session pools loaded on this silo's devices, keyed by device, model version and session pool (empty, or the
/// experiment arm whose settings the sessions were built from). A device grain records each pool it loaded and forgets it
/// when unloading; a replica on the same silo runs its batches on it directly, without a turn of the device grain.
/// </summary>
public sealed class LocalSessionPools
{
    private readonly ConcurrentDictionary<(string Device, string Model, long Version, string Pool), DeviceSessions> _pools = new();

    /// <summary>Records a loaded pool.</summary>
    public void Add(DeviceSessions sessions) => _pools[KeyOf(sessions)] = sessions;

    /// <summary>Forgets a pool being unloaded, unless a newer load of the same sessions replaced it.</summary>
    public void Remove(DeviceSessions sessions) => _pools.TryRemove(new(KeyOf(sessions), sessions));

    /// <summary>The pool of a model version loaded on a device of this silo, or null (not loaded yet, or unloaded).</summary>
    public DeviceSessions? Find(string device, string model, long version, string pool) => _pools.GetValueOrDefault((device, model, version, pool));

    private static (string, string, long, string) KeyOf(DeviceSessions sessions) => (sessions.Device, sessions.Model, sessions.Version, sessions.SessionPool);
}
