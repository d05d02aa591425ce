using System.Collections.Concurrent;
using Cluster.Inference.Generation;

namespace Cluster.Grains.Devices;

/// <summary>
/// The generation engines running on this silo's devices, keyed by device, model version and session pool (empty, or the
/// experiment arm whose settings the engine runs, see <see cref="Contracts.Models.ModelTarget.SessionPool"/>). A device
/// grain starts one when it loads a generation model; a replica on the same silo submits to it in-process,
/// since a step's KV cache never leaves the device's process.
/// </summary>
public sealed class LocalDecoders
{
    private readonly ConcurrentDictionary<(string Device, string Model, long Version, string Pool), GenerationEngine> _engines = new();

    /// <summary>Records the engine of a loaded model.</summary>
    public void Add(string device, string model, long version, string pool, GenerationEngine engine) => _engines[(device, model, version, pool)] = engine;

    /// <summary>Forgets the engine of an unloaded model.</summary>
    public void Remove(string device, string model, long version, string pool) => _engines.TryRemove((device, model, version, pool), out _);

    /// <summary>Every engine on this silo's devices, with its model's name.</summary>
    public IEnumerable<(string Model, GenerationEngine Engine)> Engines => _engines.Select(e => (e.Key.Model, e.Value));

    /// <summary>The engine of a model loaded on a device of this silo, or null.</summary>
    public GenerationEngine? Find(string device, string model, long version, string pool) => _engines.GetValueOrDefault((device, model, version, pool));
}
