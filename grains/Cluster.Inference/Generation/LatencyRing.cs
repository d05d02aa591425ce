namespace Cluster.Inference.Generation;

/// <summary>The latest <c>capacity</c> latency samples, for percentiles. Not thread-safe: the engine locks around it.</summary>
internal sealed class LatencyRing(int capacity)
{
    private readonly double[] _samples = new double[capacity];
    private int _count;
    private int _next;

    public void Add(double value)
    {
        _samples[_next] = value;
        _next = (_next + 1) % _samples.Length;
        _count = Math.Min(_count + 1, _samples.Length);
    }

    public double[] Snapshot() => _samples.AsSpan(0, _count).ToArray();
}
