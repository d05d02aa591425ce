using Cluster.Tests.Shared;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Tests.Text;

/// <summary>
/// all-MiniLM-L6-v2 embeddings computed the textbook way, independently of the serving code: the
/// tokenizer's own special tokens, one sentence per ONNX Runtime run (no padding), mean pooling and L2
/// normalisation in double precision.
/// </summary>
public sealed class ReferenceEmbeddings : IDisposable
{
    public const string RawModel = "all-MiniLM-L6-v2";
    public const string Pipeline = "all-MiniLM-L6-v2-embeddings";

    private readonly InferenceSession _session = new(Path.Combine(RepositoryPaths.BundledModels, RawModel, "1", "model.onnx"));
    private readonly BertTokenizer _tokenizer = BertTokenizer.Create(
        Path.Combine(RepositoryPaths.BundledModels, Pipeline, "1", "vocab.txt"),
        new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });

    public float[] Embed(string text)
    {
        var ids = _tokenizer.EncodeToIds(text).Select(i => (long)i).ToArray();
        var shape = new[] { 1, ids.Length };
        using var results = _session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], shape)),
        ]);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>();
        var dims = hidden.Dimensions[2];
        var mean = new double[dims];
        for (var t = 0; t < ids.Length; t++)
        {
            for (var d = 0; d < dims; d++)
            {
                mean[d] += hidden[0, t, d] / ids.Length;
            }
        }

        var norm = Math.Sqrt(mean.Sum(v => v * v));
        return [.. mean.Select(v => (float)(v / norm))];
    }

    public static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    public static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"Element {i}: expected {expected[i]}, got {actual[i]}.");
        }
    }

    public void Dispose() => _session.Dispose();
}
