using System.Collections.Concurrent;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// The measured throughput of each model version on each of this process's devices, written by the model's
/// session pool (warm-up runs first, then every batch) and read by the load report and the device status. Thread-safe.
/// </summary>
public sealed class ThroughputBoard
{
    private readonly ConcurrentDictionary<(string Device, string Model, long Version), MeasuredThroughput> _pairs = new();

    /// <summary>The record of a model version on a device, created on first use.</summary>
    public MeasuredThroughput For(string device, string model, long version) => _pairs.GetOrAdd((device, model, version), _ => new MeasuredThroughput());

    /// <summary>The measured items per second of a model version on a device; 0 when not measured.</summary>
    public double ItemsPerSecond(string device, string model, long version) => _pairs.GetValueOrDefault((device, model, version))?.ItemsPerSecond ?? 0;

    /// <summary>Every measured model version on <paramref name="device"/>, as <c>model:version</c> → items per second.</summary>
    public Dictionary<string, double> OnDevice(string device) => _pairs
        .Where(p => p.Key.Device == device && p.Value.ItemsPerSecond > 0)
        .ToDictionary(p => $"{p.Key.Model}:{p.Key.Version}", p => p.Value.ItemsPerSecond, StringComparer.Ordinal);

    /// <summary>Forgets a model version unloaded from a device.</summary>
    public void Remove(string device, string model, long version) => _pairs.TryRemove((device, model, version), out _);
}

/// <summary>
/// Items per second of run time, over a window that decays by <see cref="Decay"/> per batch: recent batches count
/// most, so the figure follows the live batch sizes, and the warm-up runs only seed it.
/// </summary>
public sealed class MeasuredThroughput
{
    /// <summary>The weight each earlier batch keeps when a new one is recorded.</summary>
    public const double Decay = 0.95;

    private readonly object _gate = new();
    private double _items;
    private double _seconds;

    /// <summary>Items per second of run time; 0 before the first batch.</summary>
    public double ItemsPerSecond
    {
        get
        {
            lock (_gate)
            {
                return _seconds > 0 ? _items / _seconds : 0;
            }
        }
    }

    /// <summary>A batch of <paramref name="items"/> ran in <paramref name="elapsed"/>.</summary>
    public void Record(int items, TimeSpan elapsed)
    {
        lock (_gate)
        {
            _items = (_items * Decay) + items;
            _seconds = (_seconds * Decay) + Math.Max(elapsed.TotalSeconds, 1e-7);
        }
    }
}
