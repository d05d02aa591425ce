using System.Numerics;

namespace Cluster.Inference.Generation;

/// <summary>
/// Counts and total weight of a step's tokens in logarithmic buckets (16 per octave of weight). Bucket
/// order follows weight order, so whole buckets above a boundary can be taken or dropped at once and
/// only the boundary bucket needs exact selection.
/// </summary>
internal sealed class WeightHistogram
{
    private const int SubBits = 4;
    private const int Buckets = 31 << SubBits;

    private readonly int[] _counts = new int[Buckets];
    private readonly long[] _weights = new long[Buckets];

    /// <summary>The weight of every token added since <see cref="Clear"/>.</summary>
    public long Total { get; private set; }

    /// <summary>The bucket of a weight in [1, 2^30]: its octave, then the four bits after the leading one.</summary>
    public static int Bucket(int weight)
    {
        var octave = 31 - BitOperations.LeadingZeroCount((uint)weight);
        var fraction = octave >= SubBits ? weight >> (octave - SubBits) : weight << (SubBits - octave);
        return (octave << SubBits) | (fraction & ((1 << SubBits) - 1));
    }

    /// <summary>Forgets every token.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Array.Clear(_weights);
        Total = 0;
    }

    /// <summary>Counts one token of weight <paramref name="weight"/> (at least 1).</summary>
    public void Add(int weight)
    {
        var bucket = Bucket(weight);
        _counts[bucket]++;
        _weights[bucket] += weight;
        Total += weight;
    }

    /// <summary>
    /// The bucket holding the <paramref name="k"/>-th heaviest token, with the count and weight of the
    /// buckets above it (fewer than k tokens).
    /// </summary>
    public (int Bucket, int CountAbove, long WeightAbove) FindByCount(int k)
    {
        var count = 0;
        long weight = 0;
        for (var bucket = Buckets - 1; bucket > 0; bucket--)
        {
            if (count + _counts[bucket] >= k)
            {
                return (bucket, count, weight);
            }

            count += _counts[bucket];
            weight += _weights[bucket];
        }

        return (0, count, weight);
    }

    /// <summary>
    /// The bucket where the running weight, heaviest first, reaches <paramref name="need"/>, with the
    /// count and weight of the buckets above it (less than need).
    /// </summary>
    public (int Bucket, int CountAbove, long WeightAbove) FindByWeight(long need)
    {
        var count = 0;
        long weight = 0;
        for (var bucket = Buckets - 1; bucket > 0; bucket--)
        {
            if (weight + _weights[bucket] >= need)
            {
                return (bucket, count, weight);
            }

            count += _counts[bucket];
            weight += _weights[bucket];
        }

        return (0, count, weight);
    }
}
