using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// The process-wide meter and its observable gauges. Several silos can share a process (tests, tools);
/// each registers its readings and the one gauge per name reports all of them, told apart by labels.
/// </summary>
public static class ProcessGauges
{
    /// <summary>The one meter every instrument of the cluster lives on.</summary>
    public static Meter Meter { get; } = new(InferenceMetrics.MeterName);

    /// <summary>The name of <see cref="AllocatedBytes"/> on a metrics page.</summary>
    public const string AllocatedBytesName = "process_allocated_bytes";

    /// <summary>
    /// Bytes the process has allocated on the managed heap, exact at each reading (which pauses the process's threads for an instant,
    /// once per scrape). A gauge, as the runtime's total drops by a heap's whole history when the server GC gives a heap up (its dynamic
    /// adaptation to the load): the runtime's own figure (<c>dotnet_gc_heap_total_allocated_bytes</c>) then stands still until
    /// allocation catches up with it, for seconds under load; this one drops, and the readings between two drops are exact.
    /// </summary>
    public static ObservableGauge<long> AllocatedBytes { get; } = Meter.CreateObservableGauge(AllocatedBytesName,
        () => GC.GetTotalAllocatedBytes(precise: true), description: "Bytes allocated on the managed heap since the process started, exact at each " +
            "reading; drops when the GC gives a heap up");

    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<object, Func<IEnumerable<Measurement<double>>>>> Sources = new();

    /// <summary>Adds <paramref name="source"/> to gauge <paramref name="name"/> (created on first use); dispose to remove it.</summary>
    public static IDisposable Register(string name, string description, Func<IEnumerable<Measurement<double>>> source)
    {
        var sources = Sources.GetOrAdd(name, n =>
        {
            var registered = new ConcurrentDictionary<object, Func<IEnumerable<Measurement<double>>>>();
            Meter.CreateObservableGauge(n, () => registered.Values.SelectMany(s => s()), description: description);
            return registered;
        });
        var key = new object();
        sources[key] = source;
        return new Registration(() => sources.TryRemove(key, out _));
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
