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
