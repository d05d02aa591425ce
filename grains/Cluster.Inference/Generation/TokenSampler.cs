using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Cluster.Inference.Generation;

/// <summary>
/// Picks one sequence's next token from its logits: greedy argmax, or temperature → top-k → top-p →
/// one random draw. Probabilities are held as integer weights (a token's share of the most likely
/// token's probability in units of 2^-30), so every sum is exact and independent of the order it is
/// taken in: that lets top-k and top-p use linear-time selection instead of sorting the vocabulary,
/// and still choose exactly what the sort-based definition chooses. A token under 2^-30 (~1e-9) of the
/// most likely one gets weight 0 and is never drawn.
/// <para>
/// Randomness is counter-based: draw n is a pure function of (seed, n), so a sequence moved to another
/// replica continues the same stream by passing <see cref="Draws"/> back in. Not thread-safe; one
/// instance per sequence, or per decoding thread with <see cref="Draws"/> carried per sequence.
/// </para>
/// </summary>
public sealed class TokenSampler
{
    /// <summary>The weight of the most likely token; keeps every weight within an int for vector conversion.</summary>
    public const float WeightScale = 1 << 30;

    private readonly SamplingParameters _parameters;

    /// <summary>Creates a sampler that continues the random stream after <paramref name="draws"/> draws.</summary>
    public TokenSampler(SamplingParameters parameters, long draws = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(draws);
        _parameters = parameters;
        Draws = draws;
    }

    /// <summary>Random draws consumed so far; hand this to a new sampler to resume the same stream.</summary>
    public long Draws { get; private set; }

    /// <summary>The settings this sampler applies.</summary>
    public SamplingParameters Parameters => _parameters;

    /// <summary>
    /// The 64 random bits of draw <paramref name="draw"/> in the stream named by <paramref name="seed"/>
    /// (SplitMix64 of seed + (draw + 1) × the golden-ratio increment).
    /// </summary>
    public static ulong RandomBits(ulong seed, long draw)
    {
        var z = seed + unchecked((ulong)(draw + 1) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A draw's position within a total weight: floor(bits × total / 2^64), uniform on [0, total).
    /// </summary>
    public static long Scale(ulong bits, long total) => (long)Math.BigMul(bits, (ulong)total, out _);

    /// <summary>
    /// The weight of a logit <paramref name="delta"/> = (logit − max logit) / temperature; the vector
    /// exponential is used everywhere, one lane at a time included, so results match bit for bit.
    /// </summary>
    public static int Weight(float delta) =>
        Vector256.ConvertToInt32(Vector256.Exp(Vector256.Create(delta)) * WeightScale).ToScalar();

    /// <summary>
    /// The selection key: weight descending, then token id ascending. Keys are unique, so "the k most
    /// probable tokens" and "the nucleus" are always exact prefixes of the key order.
    /// </summary>
    public static ulong Key(int weight, int tokenId) => ((ulong)(uint)weight << 32) | (uint)~tokenId;

    /// <summary>
    /// The token to emit after <paramref name="logits"/>. Throws ArgumentException for empty logits, or
    /// (when sampling) logits with NaN or +∞ or no finite value; −∞ masks a token.
    /// </summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("Logits are empty.", nameof(logits));
        }

        return _parameters.IsGreedy ? ArgMax(logits) : Sample(logits);
    }

    /// <summary>The first index of the largest logit (vectorised: this runs per sequence per step over the whole vocabulary).</summary>
    private static int ArgMax(ReadOnlySpan<float> logits) => TensorPrimitives.IndexOfMax(logits);

    private int Sample(ReadOnlySpan<float> logits)
    {
        var max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max))
        {
            throw new ArgumentException($"Logits must be finite or -Infinity, with at least one finite (max was {max}).", nameof(logits));
        }

        var scratch = Scratch.For(logits.Length);
        var weights = scratch.Weights.AsSpan(0, logits.Length);
        FillWeights(logits, max, _parameters.Temperature, weights);
        var histogram = scratch.Histogram;
        histogram.Clear();

        var keys = scratch.Keys.AsSpan();
        var count = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var weight = weights[i];
            if (weight != 0)
            {
                keys[count++] = Key(weight, i);
                histogram.Add(weight);
            }
        }

        keys = keys[..count];
        var floor = 0UL;
        var total = histogram.Total;
        var topK = _parameters.TopK > 0 && _parameters.TopK < count;
        if (topK)
        {
            (floor, total) = SelectTopK(keys, histogram, _parameters.TopK, scratch.Subset);
        }

        if (_parameters.TopP < 1f)
        {
            // The histogram describes every token, so it can only narrow a nucleus taken over all of them.
            var need = NucleusNeed(_parameters.TopP, total);
            (floor, _, total) = topK
                ? KeySelection.SelectNucleus(KeySelection.GatherFrom(keys, floor, scratch.Subset), need)
                : SelectNucleus(keys, histogram, need, scratch.Subset);
        }

        return Draw(keys, floor, total);
    }

    /// <summary>The nucleus threshold in weight units: ceil(topP × total), at least 1.</summary>
    public static long NucleusNeed(float topP, long total) =>
        Math.Clamp((long)Math.Ceiling(topP * (double)total), 1L, total);

    private static void FillWeights(ReadOnlySpan<float> logits, float max, float temperature, Span<int> weights)
    {
        var maxes = Vector256.Create(max);
        var temperatures = Vector256.Create(temperature);
        var scale = Vector256.Create(WeightScale);
        var i = 0;
        for (; i <= logits.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            var delta = (Vector256.Create(logits.Slice(i, Vector256<float>.Count)) - maxes) / temperatures;
            Vector256.ConvertToInt32(Vector256.Exp(delta) * scale).CopyTo(weights.Slice(i, Vector256<int>.Count));
        }

        for (; i < logits.Length; i++)
        {
            weights[i] = Weight((logits[i] - max) / temperature);
        }
    }

    /// <summary>Top-k: only the histogram bucket holding the k-th key needs selecting within.</summary>
    private static (ulong Floor, long Total) SelectTopK(Span<ulong> keys, WeightHistogram histogram, int k, ulong[] subset)
    {
        var (bucket, countAbove, weightAbove) = histogram.FindByCount(k);
        var inBucket = KeySelection.GatherBucket(keys, bucket, subset);
        var rank = k - countAbove;
        KeySelection.SelectLargest(inBucket, rank);
        long weight = 0;
        foreach (var key in inBucket[..rank])
        {
            weight += (long)(key >> 32);
        }

        return (inBucket[rank - 1], weightAbove + weight);
    }

    /// <summary>Top-p over everything: buckets above the boundary bucket are wholly inside the nucleus.</summary>
    private static (ulong Floor, int Count, long Total) SelectNucleus(Span<ulong> keys, WeightHistogram histogram, long need, ulong[] subset)
    {
        var (bucket, countAbove, weightAbove) = histogram.FindByWeight(need);
        var (floor, count, total) = KeySelection.SelectNucleus(KeySelection.GatherBucket(keys, bucket, subset), need - weightAbove);
        return (floor, countAbove + count, weightAbove + total);
    }

    private int Draw(ReadOnlySpan<ulong> keys, ulong floor, long total)
    {
        var target = Scale(RandomBits(_parameters.Seed, Draws), total);
        Draws++;

        // Selection only ever reorders copies, so the keys are still in token-id order: which token a
        // draw lands on does not depend on how selection shuffled anything.
        long cumulative = 0;
        foreach (var key in keys)
        {
            if (key >= floor)
            {
                cumulative += (long)(key >> 32);
                if (target < cumulative)
                {
                    return ~(int)(uint)key;
                }
            }
        }

        throw new InvalidOperationException("The draw fell outside the candidates' total weight.");
    }

    /// <summary>
    /// Per-thread working memory: a sampler per sequence stays small, and a decoding thread reuses one
    /// set of vocabulary-sized buffers for every sequence it samples.
    /// </summary>
    private sealed class Scratch
    {
        [ThreadStatic]
        private static Scratch? _current;

        private Scratch(int vocabulary)
        {
            Weights = new int[vocabulary];
            Keys = new ulong[vocabulary];
            Subset = new ulong[vocabulary];
        }

        public int[] Weights { get; }

        public ulong[] Keys { get; }

        public ulong[] Subset { get; }

        public WeightHistogram Histogram { get; } = new();

        public static Scratch For(int vocabulary)
        {
            if (_current is null || _current.Weights.Length < vocabulary)
            {
                _current = new Scratch(vocabulary);
            }

            return _current;
        }
    }
}
