namespace Cluster.Inference.Telemetry;

/// <summary>The latest <c>capacity</c> latency samples, for percentiles. Not thread-safe: its owner locks around it.</summary>
public sealed class LatencyRing(int capacity)
{
    private readonly double[] _samples = new double[capacity];
    private int _count;
    private int _next;

    /// <summary>Records a sample, replacing the oldest once full.</summary>
    public void Add(double value)
    {
        _samples[_next] = value;
        _next = (_next + 1) % _samples.Length;
        _count = Math.Min(_count + 1, _samples.Length);
    }

    /// <summary>The samples held, oldest first only until the ring wraps.</summary>
    public double[] Snapshot() => _samples.AsSpan(0, _count).ToArray();

    /// <summary>The held samples, sorted.</summary>
    public double[] Sorted()
    {
        var sorted = Snapshot();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>The nearest-rank percentile of sorted values (0 when empty).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction) =>
        sorted.Count == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
}
