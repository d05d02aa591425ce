using Microsoft.Extensions.AI;

namespace Cluster.Client.AI;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over <see cref="TextEmbeddings.EmbedAsync"/>: one embedding per
/// string, in order. The pipeline reports no token counts, so <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> stays null.
/// </summary>
internal sealed class ClusterEmbeddingGenerator(InferenceClient client, string model) : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingGeneratorMetadata _metadata = new(InferenceClientAIExtensions.ProviderName, client.Endpoint, model);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] texts = [.. values];
        var nullAt = Array.IndexOf(texts, null);
        if (nullAt >= 0)
        {
            throw new ArgumentException($"values[{nullAt}] is null.", nameof(values));
        }

        var modelId = options?.ModelId ?? model;
        var start = options?.RawRepresentationFactory?.Invoke(this) switch
        {
            null => new InferOptions(),
            InferOptions given => given,
            var other => throw new ArgumentException(
                $"EmbeddingGenerationOptions.RawRepresentationFactory returned a {other.GetType().Name}; the cluster's embedding generator " +
                    $"takes {nameof(InferOptions)}.", nameof(options)),
        };
        var scheduling = SchedulingProperties.Read(options?.AdditionalProperties, nameof(EmbeddingGenerationOptions), start);
        var vectors = await client.EmbedAsync(texts, modelId, scheduling, cancellationToken);
        if (options?.Dimensions is { } dimensions && vectors.Length > 0 && vectors[0].Length != dimensions)
        {
            throw new NotSupportedException(
                $"EmbeddingGenerationOptions.Dimensions asks for {dimensions}; model '{modelId}' gives {vectors[0].Length} dimensions and does not shorten " +
                    "them.");
        }

        var created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(vector => new Embedding<float>(vector) { ModelId = modelId, CreatedAt = created }));
    }

    /// <summary><see cref="EmbeddingGeneratorMetadata"/>, the <see cref="InferenceClient"/> underneath, or this generator.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(client) ? client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Nothing to release: the <see cref="InferenceClient"/> belongs to the caller.</summary>
    public void Dispose()
    {
    }
}
