using System.Runtime.CompilerServices;
using Cluster.Contracts.Generation;
using Microsoft.Extensions.AI;

namespace Cluster.Client.AI;

/// <summary>
/// <see cref="IChatClient"/> over <see cref="InferenceClient.GenerateAsync"/>: the conversation goes to a generation
/// model's replica as <see cref="GenerationRequest.Messages"/>, which its chat template renders into the prompt.
/// </summary>
internal sealed class ClusterChatClient(InferenceClient client, string model) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new(InferenceClientAIExtensions.ProviderName, client.Endpoint, model);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var request = ChatRequests.Create(messages, options, this);
        var modelId = options?.ModelId ?? model;
        var created = DateTimeOffset.UtcNow;
        var result = await client.GenerateTextAsync(modelId, request, cancellationToken: cancellationToken);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text) { MessageId = request.Id, CreatedAt = created })
        {
            ResponseId = request.Id,
            ModelId = modelId,
            CreatedAt = created,
            FinishReason = FinishReason(result.FinishReason),
            Usage = Usage(result.PromptTokens, result.GeneratedTokens),
            RawRepresentation = result,
        };
    }

    /// <summary>One update per token piece that adds text; the last carries the finish reason and a <see cref="UsageContent"/>.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = ChatRequests.Create(messages, options, this);
        var modelId = options?.ModelId ?? model;
        var created = DateTimeOffset.UtcNow;
        await foreach (var token in client.GenerateAsync(modelId, request, cancellationToken: cancellationToken))
        {
            var final = token.FinishReason is not null;

            // A piece without text (half a character, a possible stop string) adds nothing; the gRPC edge does not send one either.
            if (token.Text.Length == 0 && !final)
            {
                continue;
            }

            List<AIContent> contents = token.Text.Length > 0 ? [new TextContent(token.Text)] : [];
            if (final)
            {
                contents.Add(new UsageContent(Usage(token.PromptTokens, token.GeneratedTokens)));
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = request.Id,
                MessageId = request.Id,
                ModelId = modelId,
                CreatedAt = created,
                FinishReason = FinishReason(token.FinishReason),
                RawRepresentation = token,
            };
        }
    }

    /// <summary><see cref="ChatClientMetadata"/>, the <see cref="InferenceClient"/> underneath, or this client.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(client) ? client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Nothing to release: the <see cref="InferenceClient"/> belongs to the caller.</summary>
    public void Dispose()
    {
    }

    /// <summary>The engine's <c>stop</c> and <c>length</c> as Microsoft.Extensions.AI's; any other reason (<c>cancelled</c>) by its own name.</summary>
    private static ChatFinishReason? FinishReason(string? reason) => reason switch
    {
        null or "" => null,
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        _ => new ChatFinishReason(reason),
    };

    private static UsageDetails Usage(int promptTokens, int generatedTokens) => new()
    {
        InputTokenCount = promptTokens,
        OutputTokenCount = generatedTokens,
        TotalTokenCount = promptTokens + generatedTokens,
    };
}
