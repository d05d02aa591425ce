namespace Cluster.Inference.Generation;

/// <summary>
/// Cumulative counts of latencies (in seconds) per bucket of fixed upper bounds, for Prometheus
/// histograms: unlike <see cref="LatencyRing"/> it never forgets, so a scraper can take rates and
/// quantiles over any window. Not thread-safe: the engine locks around it.
/// </summary>
internal sealed class LatencyHistogram(IReadOnlyList<double> bounds)
{
    private readonly long[] _counts = new long[bounds.Count + 1];
    private double _sum;

    public void Add(double seconds)
    {
        var bucket = 0;
        while (bucket < bounds.Count && seconds > bounds[bucket])
        {
            bucket++;
        }

        _counts[bucket]++;
        _sum += seconds;
    }

    public HistogramSnapshot Snapshot() => new(bounds, [.. _counts], _sum);
}

/// <summary>A histogram's counts at one moment.</summary>
/// <param name="Bounds">The buckets' upper bounds (inclusive), ascending, in seconds.</param>
/// <param name="Counts">Observations per bucket, not cumulative: one per bound, then one above the last bound.</param>
/// <param name="Sum">The sum of every observation, in seconds.</param>
public sealed record HistogramSnapshot(IReadOnlyList<double> Bounds, IReadOnlyList<long> Counts, double Sum)
{
    /// <summary>A histogram over <paramref name="bounds"/> with nothing observed.</summary>
    public static HistogramSnapshot Empty(IReadOnlyList<double> bounds) => new(bounds, new long[bounds.Count + 1], 0);

    /// <summary>Every observation.</summary>
    public long Count => Counts.Sum();

    /// <summary>This histogram's and <paramref name="other"/>'s observations together (the same bounds).</summary>
    public HistogramSnapshot Plus(HistogramSnapshot other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Bounds.SequenceEqual(other.Bounds))
        {
            throw new ArgumentException("Histograms with different bounds cannot be added.", nameof(other));
        }

        return new(Bounds, [.. Counts.Zip(other.Counts, (a, b) => a + b)], Sum + other.Sum);
    }
}
