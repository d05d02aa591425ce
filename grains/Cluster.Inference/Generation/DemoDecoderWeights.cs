using Cluster.Inference.Onnx;

namespace Cluster.Inference.Generation;

/// <summary>
/// The demo decoder's weights as float32 values, already rounded through float16 exactly as the graph
/// stores them, so a managed implementation computes with the same numbers as ONNX Runtime. Matrices are
/// row-major with the input dimension first (<c>y = x · W + b</c>).
/// </summary>
public sealed class DemoDecoderWeights
{
    /// <summary>Vocabulary size (GPT-2 BPE).</summary>
    public const int Vocabulary = 50257;

    /// <summary>Learned positions of <c>tiny_gpt</c> (a longer-context variant may be built for benchmarks).</summary>
    public const int Context = 1024;

    /// <summary>Hidden size.</summary>
    public const int Model = 64;

    /// <summary>Transformer blocks.</summary>
    public const int LayerCount = 2;

    /// <summary>Query heads per block.</summary>
    public const int Heads = 4;

    /// <summary>Key/value heads per block; each serves <see cref="Heads"/> / <see cref="KvHeads"/> query heads.</summary>
    public const int KvHeads = 2;

    /// <summary>Size of one head.</summary>
    public const int HeadSize = 16;

    /// <summary>Inner size of the MLP.</summary>
    public const int FeedForward = 256;

    /// <summary>LayerNormalization epsilon.</summary>
    public const float Epsilon = 1e-5f;

    /// <summary>
    /// Multiplies the tied-embedding logits. Small random embeddings give logits within a few hundredths of
    /// each other; scaling spreads them so the top two are far enough apart that float rounding differences
    /// between batched and unbatched runs never change a greedy choice.
    /// </summary>
    public const float LogitScale = 64f;

    /// <summary>Value added to the scores of masked keys: large but finite, so a fully masked row stays finite.</summary>
    public const float MaskedScore = -1e9f;

    private DemoDecoderWeights(float[] tokenEmbedding, float[] positionEmbedding, DemoDecoderLayer[] layers, float[] finalGamma, float[] finalBeta)
    {
        TokenEmbedding = tokenEmbedding;
        PositionEmbedding = positionEmbedding;
        Layers = layers;
        FinalGamma = finalGamma;
        FinalBeta = finalBeta;
    }

    /// <summary>wte [<see cref="Vocabulary"/>, <see cref="Model"/>], also the transposed lm_head.</summary>
    public float[] TokenEmbedding { get; }

    /// <summary>wpe [context, <see cref="Model"/>]: the first <see cref="Context"/> rows are the same in every variant.</summary>
    public float[] PositionEmbedding { get; }

    /// <summary>The transformer blocks.</summary>
    public IReadOnlyList<DemoDecoderLayer> Layers { get; }

    /// <summary>Final LayerNorm scale [<see cref="Model"/>].</summary>
    public float[] FinalGamma { get; }

    /// <summary>Final LayerNorm bias [<see cref="Model"/>].</summary>
    public float[] FinalBeta { get; }

    /// <summary>Generates the weights for <paramref name="context"/> positions; the same on every call and every machine.</summary>
    public static DemoDecoderWeights Create(int context = Context)
    {
        // One generator per tensor family, so changing one shape leaves the others' values alone.
        var embeddings = new DeterministicWeights(seed: 1001);
        var wte = Rounded(embeddings.Uniform(Vocabulary * Model, 0.035f));
        var wpe = Rounded(embeddings.Uniform(context * Model, 0.035f));
        var layers = new DemoDecoderLayer[LayerCount];
        for (var i = 0; i < LayerCount; i++)
        {
            var w = new DeterministicWeights(seed: 2001 + (ulong)i);
            var kv = KvHeads * HeadSize;
            layers[i] = new DemoDecoderLayer(
                Ln1Gamma: Rounded(Shifted(w.Uniform(Model, 0.1f), 1f)),
                Ln1Beta: Rounded(w.Uniform(Model, 0.1f)),
                Wq: Rounded(w.Uniform(Model * Model, DeterministicWeights.ScaleFor(Model) * 1.7f)),
                Bq: Rounded(w.Uniform(Model, 0.05f)),
                Wk: Rounded(w.Uniform(Model * kv, DeterministicWeights.ScaleFor(Model) * 1.7f)),
                Bk: Rounded(w.Uniform(kv, 0.05f)),
                Wv: Rounded(w.Uniform(Model * kv, DeterministicWeights.ScaleFor(Model) * 1.7f)),
                Bv: Rounded(w.Uniform(kv, 0.05f)),
                Wo: Rounded(w.Uniform(Model * Model, DeterministicWeights.ScaleFor(Model) * 1.7f)),
                Bo: Rounded(w.Uniform(Model, 0.05f)),
                Ln2Gamma: Rounded(Shifted(w.Uniform(Model, 0.1f), 1f)),
                Ln2Beta: Rounded(w.Uniform(Model, 0.1f)),
                W1: Rounded(w.Uniform(Model * FeedForward, DeterministicWeights.ScaleFor(Model) * 1.7f)),
                B1: Rounded(w.Uniform(FeedForward, 0.05f)),
                W2: Rounded(w.Uniform(FeedForward * Model, DeterministicWeights.ScaleFor(FeedForward) * 1.7f)),
                B2: Rounded(w.Uniform(Model, 0.05f)));
        }

        var final = new DeterministicWeights(seed: 3001);
        return new DemoDecoderWeights(wte, wpe, layers, Rounded(Shifted(final.Uniform(Model, 0.1f), 1f)), Rounded(final.Uniform(Model, 0.1f)));
    }

    /// <summary>The float16 form of values that are already float16-exact.</summary>
    public static Half[] ToHalf(float[] values)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return halves;
    }

    private static float[] Shifted(float[] values, float by)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] += by;
        }

        return values;
    }

    // The graph stores float16; rounding here makes the managed copy bit-equal to what the graph casts back.
    private static float[] Rounded(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Half)values[i];
        }

        return values;
    }
}

/// <summary>One pre-LayerNorm block's weights (see <see cref="DemoDecoderWeights"/> for the layout).</summary>
/// <param name="Ln1Gamma">Attention LayerNorm scale [64].</param>
/// <param name="Ln1Beta">Attention LayerNorm bias [64].</param>
/// <param name="Wq">Query projection [64, 64]; query head h is columns h·16..h·16+15.</param>
/// <param name="Bq">Query bias [64].</param>
/// <param name="Wk">Key projection [64, 32]; KV head g is columns g·16..g·16+15 and serves query heads 2g and 2g+1.</param>
/// <param name="Bk">Key bias [32].</param>
/// <param name="Wv">Value projection [64, 32].</param>
/// <param name="Bv">Value bias [32].</param>
/// <param name="Wo">Attention output projection [64, 64].</param>
/// <param name="Bo">Attention output bias [64].</param>
/// <param name="Ln2Gamma">MLP LayerNorm scale [64].</param>
/// <param name="Ln2Beta">MLP LayerNorm bias [64].</param>
/// <param name="W1">MLP up projection [64, 256].</param>
/// <param name="B1">MLP up bias [256].</param>
/// <param name="W2">MLP down projection [256, 64].</param>
/// <param name="B2">MLP down bias [64].</param>
public sealed record DemoDecoderLayer(
    float[] Ln1Gamma, float[] Ln1Beta,
    float[] Wq, float[] Bq, float[] Wk, float[] Bk, float[] Wv, float[] Bv, float[] Wo, float[] Bo,
    float[] Ln2Gamma, float[] Ln2Beta,
    float[] W1, float[] B1, float[] W2, float[] B2);
