using Cluster.Inference.Generation;
using W = Cluster.Inference.Generation.DemoDecoderWeights;

namespace Cluster.Inference.Tests.Generation;

/// <summary>
/// The demo decoder written out in plain managed loops (double accumulation), independent of ONNX Runtime:
/// the oracle for the graph and for runners. Feeds tokens one at a time, which a causal decoder allows.
/// </summary>
public sealed class ReferenceDecoder : IDecoderRunner
{
    private const int KvWidth = W.KvHeads * W.HeadSize;
    private readonly W _weights;
    private readonly Dictionary<long, SequenceCache> _caches = [];

    /// <summary>Creates a reference over the given weights (by default the demo decoder's own).</summary>
    public ReferenceDecoder(W? weights = null) => _weights = weights ?? DemoDecoder.Weights();

    /// <inheritdoc />
    public DecoderShape Shape { get; } = new(W.LayerCount, W.KvHeads, W.HeadSize, W.Vocabulary, BytesPerElement: 4);

    /// <summary>How many tokens of a sequence are cached (0 when unknown).</summary>
    public int CachedTokens(long sequenceId) => _caches.TryGetValue(sequenceId, out var cache) ? cache.Length : 0;

    /// <inheritdoc />
    public StepOutput Run(IReadOnlyList<StepRow> rows)
    {
        var output = new StepOutput(rows.Count, W.Vocabulary);
        var kept = new Dictionary<long, SequenceCache>();
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Position == 0 || !_caches.TryGetValue(row.SequenceId, out var cache))
            {
                cache = new SequenceCache();
            }

            if (cache.Length != row.Position)
            {
                throw new InvalidOperationException($"Sequence {row.SequenceId} has {cache.Length} cached tokens, not {row.Position}.");
            }

            var tokens = row.Tokens.Span;
            for (var t = 0; t < tokens.Length; t++)
            {
                var hidden = Forward(cache, tokens[t], row.Position + t);
                if (row.WantLogits && t == tokens.Length - 1)
                {
                    Logits(hidden, output.Logits.AsSpan(r * W.Vocabulary, W.Vocabulary));
                }
            }

            kept[row.SequenceId] = cache;
            output.TotalSlots += row.Position + tokens.Length;
        }

        // A sequence the step did not mention is dropped, as the runner contract says.
        _caches.Clear();
        foreach (var (id, cache) in kept)
        {
            _caches[id] = cache;
        }

        return output;
    }

    /// <summary>The logits after feeding a whole prompt to a fresh sequence.</summary>
    public float[] Prefill(long sequenceId, int[] tokens) =>
        Run([new StepRow(sequenceId, tokens, 0, WantLogits: true)]).Logits;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    // Appends the token's keys and values to the cache and returns the last block's output.
    private double[] Forward(SequenceCache cache, int token, int position)
    {
        var h = new double[W.Model];
        for (var i = 0; i < W.Model; i++)
        {
            h[i] = (double)_weights.TokenEmbedding[(token * W.Model) + i] + _weights.PositionEmbedding[(position * W.Model) + i];
        }

        for (var l = 0; l < W.LayerCount; l++)
        {
            var w = _weights.Layers[l];
            var x = LayerNorm(h, w.Ln1Gamma, w.Ln1Beta);
            var q = Linear(x, w.Wq, w.Bq, W.Model);
            cache.Keys[l].Add(Linear(x, w.Wk, w.Bk, KvWidth));
            cache.Values[l].Add(Linear(x, w.Wv, w.Bv, KvWidth));
            var context = Attend(q, cache.Keys[l], cache.Values[l]);
            var attn = Linear(context, w.Wo, w.Bo, W.Model);
            for (var i = 0; i < W.Model; i++)
            {
                h[i] += attn[i];
            }

            var up = Linear(LayerNorm(h, w.Ln2Gamma, w.Ln2Beta), w.W1, w.B1, W.FeedForward);
            for (var i = 0; i < up.Length; i++)
            {
                up[i] = up[i] * 0.5 * (1 + Erf(up[i] / Math.Sqrt(2)));
            }

            var down = Linear(up, w.W2, w.B2, W.Model);
            for (var i = 0; i < W.Model; i++)
            {
                h[i] += down[i];
            }
        }

        return h;
    }

    private static double[] Attend(double[] q, List<double[]> keys, List<double[]> values)
    {
        var context = new double[W.Model];
        var scores = new double[keys.Count];
        var scale = 1 / Math.Sqrt(W.HeadSize);
        for (var head = 0; head < W.Heads; head++)
        {
            var kvOffset = head / (W.Heads / W.KvHeads) * W.HeadSize;
            var qOffset = head * W.HeadSize;
            var max = double.NegativeInfinity;
            for (var j = 0; j < keys.Count; j++)
            {
                var dot = 0.0;
                for (var d = 0; d < W.HeadSize; d++)
                {
                    dot += q[qOffset + d] * keys[j][kvOffset + d];
                }

                scores[j] = dot * scale;
                max = Math.Max(max, scores[j]);
            }

            var sum = 0.0;
            for (var j = 0; j < keys.Count; j++)
            {
                scores[j] = Math.Exp(scores[j] - max);
                sum += scores[j];
            }

            for (var j = 0; j < keys.Count; j++)
            {
                for (var d = 0; d < W.HeadSize; d++)
                {
                    context[qOffset + d] += scores[j] / sum * values[j][kvOffset + d];
                }
            }
        }

        return context;
    }

    private void Logits(double[] hidden, Span<float> logits)
    {
        var x = LayerNorm(hidden, _weights.FinalGamma, _weights.FinalBeta);
        var wte = _weights.TokenEmbedding;
        for (var v = 0; v < W.Vocabulary; v++)
        {
            var dot = 0.0;
            for (var i = 0; i < W.Model; i++)
            {
                dot += x[i] * wte[(v * W.Model) + i];
            }

            logits[v] = (float)(dot * W.LogitScale);
        }
    }

    private static double[] LayerNorm(double[] x, float[] gamma, float[] beta)
    {
        var mean = x.Average();
        var variance = x.Select(v => (v - mean) * (v - mean)).Average();
        var inv = 1 / Math.Sqrt(variance + W.Epsilon);
        var y = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = ((x[i] - mean) * inv * gamma[i]) + beta[i];
        }

        return y;
    }

    private static double[] Linear(double[] x, float[] w, float[] b, int outputs)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            var sum = (double)b[o];
            for (var i = 0; i < x.Length; i++)
            {
                sum += x[i] * w[(i * outputs) + o];
            }

            y[o] = sum;
        }

        return y;
    }

    // Math has no erf; the usual polynomial approximations are only good to ~1e-7, too coarse for an oracle.
    private static double Erf(double x)
    {
        var z = Math.Abs(x);
        double result;
        if (z < 3)
        {
            // Maclaurin series: converges quickly for |x| < 3.
            double term = z, sum = z;
            for (var n = 1; n < 100 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -z * z / n;
                sum += term / ((2 * n) + 1);
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // Continued fraction for erfc, accurate for large |x|.
            var fraction = 0.0;
            for (var n = 60; n >= 1; n--)
            {
                fraction = n / 2.0 / (z + fraction);
            }

            result = 1 - (Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + fraction));
        }

        return x < 0 ? -result : result;
    }

    private sealed class SequenceCache
    {
        public List<double[]>[] Keys { get; } = [.. Enumerable.Range(0, W.LayerCount).Select(_ => new List<double[]>())];

        public List<double[]>[] Values { get; } = [.. Enumerable.Range(0, W.LayerCount).Select(_ => new List<double[]>())];

        public int Length => Keys[0].Count;
    }
}
