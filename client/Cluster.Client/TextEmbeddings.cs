using Cluster.Contracts.Tensors;

namespace Cluster.Client;

/// <summary>Sentence embeddings from a text-embedding model (by default the bundled all-MiniLM-L6-v2 pipeline).</summary>
public static class TextEmbeddings
{
    /// <summary>The text-embedding pipeline every silo serves from its bundled models.</summary>
    public const string DefaultModel = "all-MiniLM-L6-v2-embeddings";

    /// <summary>Sentences per request; the pipeline's batcher merges requests, so larger inputs go out as several requests at once.</summary>
    public const int TextsPerRequest = 32;

    /// <summary>
    /// The L2-normalised embedding of each text, in order (384 numbers each for all-MiniLM-L6-v2). Text
    /// longer than the model's token limit (256 for all-MiniLM-L6-v2) is truncated.
    /// </summary>
    public static async Task<float[][]> EmbedAsync(
        this InferenceClient client,
        IReadOnlyList<string> texts,
        string model = DefaultModel,
        InferOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(texts);
        var chunks = texts.Chunk(TextsPerRequest).Select(async chunk =>
        {
            var input = TensorData.FromStrings("text", chunk, chunk.Length);
            var response = await client.InferAsync(model, [input], outputs: ["embedding"], options: options, cancellationToken: cancellationToken);
            var embedding = response.Outputs[0];
            var dimensions = (int)embedding.Shape[1];
            var values = embedding.AsFloat32();
            return Enumerable.Range(0, chunk.Length).Select(row => values.AsSpan(row * dimensions, dimensions).ToArray());
        });
        return [.. (await Task.WhenAll(chunks)).SelectMany(rows => rows)];
    }

    /// <summary>The cosine similarity of two vectors (their dot product when both are normalised).</summary>
    public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vectors of {a.Length} and {b.Length} dimensions cannot be compared.", nameof(b));
        }

        double dot = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }

        return normA == 0 || normB == 0 ? 0 : dot / Math.Sqrt(normA * normB);
    }
}
