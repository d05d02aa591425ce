using Cluster.Client.AI;
using Microsoft.Extensions.AI;

namespace Cluster.Client;

/// <summary>
/// The cluster as a Microsoft.Extensions.AI provider: an application written against <see cref="IChatClient"/> or
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> swaps the cluster in with one line, over grain calls or the gRPC edge.
/// </summary>
public static class InferenceClientAIExtensions
{
    /// <summary>The provider name in <see cref="ChatClientMetadata"/> and <see cref="EmbeddingGeneratorMetadata"/>.</summary>
    public const string ProviderName = "inference-cluster";

    /// <summary>
    /// <c>AdditionalProperties</c> key of <see cref="ChatOptions"/> and <see cref="EmbeddingGenerationOptions"/>: the
    /// request's priority level (an int, 1 highest; 0 for the model's default).
    /// </summary>
    public const string PriorityProperty = "priority";

    /// <summary><c>AdditionalProperties</c> key: how long the request may take (a positive <see cref="TimeSpan"/>).</summary>
    public const string TimeoutProperty = "timeout";

    /// <summary>
    /// A chat client answering with the generation model <paramref name="model"/> (<see cref="ChatOptions.ModelId"/>
    /// overrides it per call). The conversation is rendered by the model's chat template on its replica. The
    /// <paramref name="client"/> stays the caller's: disposing the chat client leaves it open.
    /// </summary>
    public static IChatClient AsIChatClient(this InferenceClient client, string model)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(model);
        return new ClusterChatClient(client, model);
    }

    /// <summary>
    /// An embedding generator over the text-embedding pipeline <paramref name="model"/> (by default the bundled
    /// all-MiniLM-L6-v2; <see cref="EmbeddingGenerationOptions.ModelId"/> overrides it per call): one L2-normalised
    /// vector per input string, as <see cref="TextEmbeddings.EmbedAsync"/> gives them.
    /// </summary>
    public static IEmbeddingGenerator<string, Embedding<float>> AsIEmbeddingGenerator(this InferenceClient client, string model = TextEmbeddings.DefaultModel)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(model);
        return new ClusterEmbeddingGenerator(client, model);
    }
}
