namespace Cluster.Client.Routing;

/// <summary>
/// Draws a replica's index with probability proportional to its capacity in constant time, whatever the
/// number of replicas (Vose's alias method: each slot holds its own share and the index that fills the rest).
/// Immutable once built.
/// </summary>
public sealed class CapacityDraw
{
    private readonly double[] _keep;
    private readonly int[] _alias;

    /// <summary>The alias table for <paramref name="capacities"/> (all positive).</summary>
    public CapacityDraw(IReadOnlyList<double> capacities)
    {
        ArgumentNullException.ThrowIfNull(capacities);
        var count = capacities.Count;
        _keep = new double[count];
        _alias = new int[count];
        var total = capacities.Sum();
        var scaled = capacities.Select(c => c * count / total).ToArray();
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (var i = 0; i < count; i++)
        {
            (scaled[i] < 1 ? small : large).Push(i);
        }

        while (small.Count > 0 && large.Count > 0)
        {
            var less = small.Pop();
            var more = large.Pop();
            _keep[less] = scaled[less];
            _alias[less] = more;
            scaled[more] += scaled[less] - 1;
            (scaled[more] < 1 ? small : large).Push(more);
        }

        // What is left holds a whole slot (up to rounding).
        foreach (var index in small.Concat(large))
        {
            _keep[index] = 1;
            _alias[index] = index;
        }
    }

    /// <summary>How many replicas it draws from.</summary>
    public int Count => _keep.Length;

    /// <summary>One draw, from two uniform random numbers.</summary>
    public int Next(Random random)
    {
        var slot = random.Next(_keep.Length);
        return random.NextDouble() < _keep[slot] ? slot : _alias[slot];
    }
}
