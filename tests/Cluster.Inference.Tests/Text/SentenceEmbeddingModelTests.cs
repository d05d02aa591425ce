using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Text;
using Cluster.Tests.Shared;

namespace Cluster.Inference.Tests.Text;

/// <summary>The text-embedding pipeline on the real all-MiniLM-L6-v2, against an independent reference.</summary>
public sealed class SentenceEmbeddingModelTests : IClassFixture<SentenceEmbeddingModelTests.Models>
{
    public static readonly string[] MixedLengths =
    [
        "Hi.",
        "A man is playing a guitar on stage.",
        "The quick brown fox jumps over the lazy dog while the farmer watches from the porch of his old wooden house.",
        "Deep learning models are served on GPUs.",
        "Café menus list crème brûlée.",
        "",
    ];

    private readonly Models _models;

    public SentenceEmbeddingModelTests(Models models) => _models = models;

    [Fact]
    public void Embeddings_equal_an_independent_onnx_runtime_run_with_mean_pooling()
    {
        foreach (var text in MixedLengths)
        {
            var served = _models.Pipeline.Run([Text(text)], [TextEmbeddingSignature.EmbeddingOutput])[0];
            Assert.Equal([1, 384], served.Shape);
            ReferenceEmbeddings.AssertClose(_models.Reference.Embed(text), served.AsFloat32());
        }
    }

    [Fact]
    public void A_paraphrase_scores_higher_than_an_unrelated_sentence()
    {
        (string Anchor, string Paraphrase, string Unrelated)[] cases =
        [
            ("A man is eating food.", "Someone is having a meal.", "The stock market fell sharply today."),
            ("The cat sits on the mat.", "A kitten is resting on a rug.", "Quantum computers use qubits."),
            ("How do I reset my password?", "I forgot my password and need to change it.", "The train to Paris leaves at noon."),
            ("It is raining heavily outside.", "There is a downpour right now.", "She plays the violin beautifully."),
        ];
        foreach (var (anchor, paraphrase, unrelated) in cases)
        {
            var vectors = _models.Pipeline.Run([Text(anchor, paraphrase, unrelated)], [TextEmbeddingSignature.EmbeddingOutput])[0].AsFloat32();
            var (a, p, u) = (vectors[..384], vectors[384..768], vectors[768..]);
            Assert.True(
                ReferenceEmbeddings.Cosine(a, p) > ReferenceEmbeddings.Cosine(a, u) + 0.2,
                $"'{anchor}': paraphrase {ReferenceEmbeddings.Cosine(a, p):0.000}, unrelated {ReferenceEmbeddings.Cosine(a, u):0.000}");
        }
    }

    [Fact]
    public void Batching_different_lengths_together_gives_the_same_vectors_as_one_at_a_time()
    {
        var requests =
            new List<TensorData[]> { new[] { Text(MixedLengths[0], MixedLengths[2]) }, new[] { Text(MixedLengths[1]) },
                new[] { Text(MixedLengths[3], MixedLengths[4], MixedLengths[5]) } };
        var batch = _models.Pipeline.RunBatch(requests, [TextEmbeddingSignature.EmbeddingOutput]);

        var together = batch.Outputs.SelectMany(o => Rows(o[0].AsFloat32())).ToArray();
        int[] order = [0, 2, 1, 3, 4, 5];
        for (var i = 0; i < order.Length; i++)
        {
            var alone = _models.Pipeline.Run([Text(MixedLengths[order[i]])], [TextEmbeddingSignature.EmbeddingOutput])[0].AsFloat32();
            ReferenceEmbeddings.AssertClose(alone, together[i], 1e-5);
        }

        Assert.True(batch.Tokens.Real > 0);
        Assert.True(batch.Tokens.PaddingFraction <= 0.2, $"padding fraction {batch.Tokens.PaddingFraction}");
    }

    [Fact]
    public void Long_text_is_truncated_to_the_token_limit()
    {
        var encoder = new WordPieceEncoder(_models.Vocabulary, new TextEmbeddingConfig { MaxTokens = 256 });
        var longText = string.Join(' ', Enumerable.Repeat("serving transformers at scale", 300));
        var ids = encoder.Encode(longText);

        Assert.Equal(256, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        var batch = _models.Pipeline.RunBatch([[Text(longText)]], [TextEmbeddingSignature.EmbeddingOutput]);
        Assert.Equal(256, batch.Tokens.Real);
        Assert.Equal(0, batch.Tokens.Padding);
    }

    [Fact]
    public void Padding_counts_cover_every_position_run()
    {
        var batch = _models.Pipeline.RunBatch([[Text("short", "a somewhat longer sentence with more words in it")]], [TextEmbeddingSignature.EmbeddingOutput]);
        var encoder = new WordPieceEncoder(_models.Vocabulary, new TextEmbeddingConfig());
        var lengths = new[] { encoder.Encode("short").Length, encoder.Encode("a somewhat longer sentence with more words in it").Length };

        Assert.Equal(lengths.Sum(), batch.Tokens.Real);

        // Lengths 3 and 11 are too far apart for one run under 20 % padding, so each runs alone.
        Assert.Equal(0, batch.Tokens.Padding);
    }

    private static TensorData Text(params string[] texts) => TensorData.FromStrings(TextEmbeddingSignature.TextInput, texts, texts.Length);

    private static IEnumerable<float[]> Rows(float[] values) => values.Chunk(384);

    public sealed class Models : IDisposable
    {
        public string Vocabulary { get; } = Path.Combine(RepositoryPaths.BundledModels, ReferenceEmbeddings.Pipeline, "1", "vocab.txt");

        public SentenceEmbeddingModel Pipeline { get; } = new(
            Path.Combine(RepositoryPaths.BundledModels, ReferenceEmbeddings.Pipeline, "1", "model.onnx"),
            Path.Combine(RepositoryPaths.BundledModels, ReferenceEmbeddings.Pipeline, "1", "vocab.txt"),
            DeviceDescriptor.Cpu,
            new TextEmbeddingConfig { Dimensions = 384 });

        public ReferenceEmbeddings Reference { get; } = new();

        public void Dispose()
        {
            Pipeline.Dispose();
            Reference.Dispose();
        }
    }
}
