using System.Text;
using Cluster.Contracts.Generation;
using Microsoft.Extensions.AI;

namespace Cluster.Client.AI;

/// <summary>
/// Turns a Microsoft.Extensions.AI conversation and its <see cref="ChatOptions"/> into a <see cref="GenerationRequest"/>:
/// text messages only, and only the options the cluster honours; anything else is refused, naming it, rather than ignored.
/// </summary>
internal static class ChatRequests
{
    private static readonly ChatRole[] Roles = [ChatRole.System, ChatRole.User, ChatRole.Assistant, ChatRole.Tool];

    /// <summary>
    /// The request for <paramref name="messages"/>: <see cref="ChatOptions.RawRepresentationFactory"/>'s
    /// <see cref="GenerationRequest"/> when it gives one, with the options set on top. Its id is the response's.
    /// </summary>
    public static GenerationRequest Create(IEnumerable<ChatMessage> messages, ChatOptions? options, IChatClient chatClient)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = options?.RawRepresentationFactory?.Invoke(chatClient) switch
        {
            null => new GenerationRequest(),
            GenerationRequest given => given,
            var other => throw new ArgumentException(
                $"ChatOptions.RawRepresentationFactory returned a {other.GetType().Name}; the cluster's chat client takes a {nameof(GenerationRequest)}.",
                    nameof(options)),
        };
        request = request with
        {
            Messages = Turns(messages, options?.Instructions),
            Id = request.Id.Length > 0 ? request.Id : $"chat-{Guid.NewGuid():N}",
        };
        if (options is null)
        {
            return request;
        }

        RefuseUnsupported(options);
        var scheduling = SchedulingProperties.Read(options.AdditionalProperties, nameof(ChatOptions), new InferOptions());
        return request with
        {
            MaxTokens = options.MaxOutputTokens ?? request.MaxTokens,
            Temperature = options.Temperature ?? request.Temperature,
            TopP = options.TopP ?? request.TopP,
            TopK = options.TopK ?? request.TopK,
            Seed = options.Seed switch
            {
                null => request.Seed,
                >= 0 and var seed => (ulong)seed,
                var seed => throw new ArgumentException($"ChatOptions.Seed must be 0 or more, got {seed}.", nameof(options)),
            },
            Stop = options.StopSequences is { Count: > 0 } stop ? [.. request.Stop.Union(stop)] : request.Stop,
            Priority = scheduling.Priority ?? request.Priority,
            TimeoutMicroseconds = scheduling.Timeout is { } timeout ? (long)Math.Ceiling(timeout.TotalMicroseconds) : request.TimeoutMicroseconds,
        };
    }

    /// <summary>The conversation as the cluster's turns, <paramref name="instructions"/> first as a system message.</summary>
    private static ChatTurn[] Turns(IEnumerable<ChatMessage> messages, string? instructions)
    {
        var turns = new List<ChatTurn>();
        if (!string.IsNullOrEmpty(instructions))
        {
            turns.Add(new ChatTurn(ChatRole.System.Value, instructions));
        }

        var index = 0;
        foreach (var message in messages)
        {
            if (message is null)
            {
                throw new ArgumentException($"messages[{index}] is null.", nameof(messages));
            }

            turns.Add(new ChatTurn(Role(message.Role, index), Text(message, index)));
            index++;
        }

        return [.. turns];
    }

    private static string Role(ChatRole role, int index)
    {
        foreach (var known in Roles)
        {
            if (known == role)
            {
                return known.Value;
            }
        }

        throw new ArgumentException(
            $"messages[{index}] has role '{role.Value}'; the cluster's chat templates take {string.Join(", ", Roles.Select(r => r.Value))}.", "messages");
    }

    private static string Text(ChatMessage message, int index)
    {
        var text = new StringBuilder();
        foreach (var content in message.Contents)
        {
            text.Append(content is TextContent piece
                ? piece.Text
                : throw new NotSupportedException($"messages[{index}] holds {content.GetType().Name}; the cluster's chat models take text only " +
                    $"({nameof(TextContent)})."));
        }

        return text.ToString();
    }

    private static void RefuseUnsupported(ChatOptions options)
    {
        Refuse(options.Tools is { Count: > 0 }, "Tools", "the cluster's models do not call tools");
        Refuse(options.FrequencyPenalty is not null, "FrequencyPenalty", "the cluster's sampler has no penalties");
        Refuse(options.PresencePenalty is not null, "PresencePenalty", "the cluster's sampler has no penalties");
        Refuse(options.ResponseFormat is ChatResponseFormatJson, "ResponseFormat (JSON)", "the cluster does not constrain output to JSON");
        Refuse(options.ConversationId is not null, "ConversationId", "the cluster keeps no conversations; send the whole history as messages");
        Refuse(options.ContinuationToken is not null, "ContinuationToken", "the cluster has no background responses");
    }

    private static void Refuse(bool set, string option, string why)
    {
        if (set)
        {
            throw new NotSupportedException($"ChatOptions.{option} is not supported: {why}.");
        }
    }
}
