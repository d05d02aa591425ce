namespace Cluster.Inference.Generation;

/// <summary>
/// Linear-time selection over <see cref="TokenSampler.Key"/> values (weight in the high half, inverted
/// token id in the low half, so all keys differ and a larger key is a more probable token).
/// </summary>
internal static class KeySelection
{
    /// <summary>Copies the keys whose weight falls in histogram bucket <paramref name="bucket"/>.</summary>
    internal static Span<ulong> GatherBucket(ReadOnlySpan<ulong> keys, int bucket, ulong[] destination)
    {
        var count = 0;
        foreach (var key in keys)
        {
            if (WeightHistogram.Bucket((int)(key >> 32)) == bucket)
            {
                destination[count++] = key;
            }
        }

        return destination.AsSpan(0, count);
    }

    /// <summary>Copies the keys at or above <paramref name="floor"/>.</summary>
    internal static Span<ulong> GatherFrom(ReadOnlySpan<ulong> keys, ulong floor, ulong[] destination)
    {
        var count = 0;
        foreach (var key in keys)
        {
            if (key >= floor)
            {
                destination[count++] = key;
            }
        }

        return destination.AsSpan(0, count);
    }

    /// <summary>
    /// Reorders <paramref name="keys"/> so its first <paramref name="k"/> entries are the largest and
    /// entry k − 1 is the k-th largest.
    /// </summary>
    internal static void SelectLargest(Span<ulong> keys, int k)
    {
        var lo = 0;
        var hi = keys.Length;
        var target = k - 1;

        // The target index always stays inside [lo, hi), so a one-element range is the answer.
        while (hi - lo > 1)
        {
            var split = Partition(keys, lo, hi, out _);
            if (split == target)
            {
                return;
            }

            if (split > target)
            {
                hi = split;
            }
            else
            {
                lo = split + 1;
            }
        }
    }

    /// <summary>
    /// Finds the smallest prefix of the keys in descending order whose weight reaches
    /// <paramref name="need"/>, without sorting: returns its smallest key, its size and its weight.
    /// </summary>
    internal static (ulong Floor, int Count, long Total) SelectNucleus(Span<ulong> keys, long need)
    {
        var lo = 0;
        var hi = keys.Length;
        long taken = 0;
        while (hi > lo)
        {
            var split = Partition(keys, lo, hi, out var greaterWeight);
            if (taken + greaterWeight >= need)
            {
                hi = split;
                continue;
            }

            taken += greaterWeight + (long)(keys[split] >> 32);
            if (taken >= need)
            {
                return (keys[split], split + 1, taken);
            }

            lo = split + 1;
        }

        throw new InvalidOperationException("The nucleus candidates do not reach the required weight.");
    }

    /// <summary>
    /// Lomuto partition of keys[lo..hi) around a median-of-three pivot, larger keys first; returns the
    /// pivot's final index and the weight of the keys placed before it within the range.
    /// </summary>
    private static int Partition(Span<ulong> keys, int lo, int hi, out long greaterWeight)
    {
        var last = hi - 1;
        var pivotAt = MedianOfThree(keys, lo, lo + ((hi - lo) >> 1), last);
        (keys[pivotAt], keys[last]) = (keys[last], keys[pivotAt]);
        var pivot = keys[last];
        var store = lo;
        greaterWeight = 0;
        for (var i = lo; i < last; i++)
        {
            var key = keys[i];
            if (key > pivot)
            {
                greaterWeight += (long)(key >> 32);
                keys[i] = keys[store];
                keys[store++] = key;
            }
        }

        (keys[store], keys[last]) = (keys[last], keys[store]);
        return store;
    }

    private static int MedianOfThree(Span<ulong> keys, int a, int b, int c)
    {
        var (x, y, z) = (keys[a], keys[b], keys[c]);
        if (x < y)
        {
            return y < z ? b : x < z ? c : a;
        }

        return x < z ? a : y < z ? c : b;
    }
}
