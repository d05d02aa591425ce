using System.Text.Json;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Generation;

namespace Cluster.Silo.Edge;

/// <summary>
/// The <c>messages</c> input of a generation request: a JSON array of <c>{"role": …, "content": …}</c> objects, as
/// chat APIs send a conversation. Roles are <c>system</c>, <c>user</c>, <c>assistant</c> and <c>tool</c>; content is text.
/// </summary>
public static class ChatMessagesInput
{
    private const string Shape = "a JSON array of {\"role\": string, \"content\": string} objects";

    /// <summary>The conversation in <paramref name="json"/>; throws InvalidInputException naming the message and field at fault.</summary>
    public static ChatTurn[] Parse(string where, string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Input '{GenerationSignature.Messages}' of {where} is not valid JSON ({e.Message}); expected {Shape}.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"Input '{GenerationSignature.Messages}' of {where} is a JSON {Kind(root)}; expected {Shape}.");
            }

            var turns = root.EnumerateArray().Select(Turn).ToArray();
            ChatTemplate.Validate(turns);
            return turns;
        }
    }

    private static ChatTurn Turn(JsonElement message, int index)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException($"messages[{index}] is a JSON {Kind(message)}; expected an object with string fields role and content.");
        }

        string? role = null, content = null;
        foreach (var field in message.EnumerateObject())
        {
            switch (field.Name)
            {
                case "role":
                    role = Text(field, index);
                    break;
                case "content":
                    content = Text(field, index);
                    break;
                default:
                    throw new InvalidInputException($"messages[{index}] has field '{field.Name}'; a message takes only role and content (text).");
            }
        }

        return role is null
            ? throw new InvalidInputException($"messages[{index}].role is missing; it must be one of {string.Join(", ", ChatTemplate.Roles)}.")
            : new ChatTurn(role, content ?? throw new InvalidInputException($"messages[{index}].content is missing."));
    }

    private static string Text(JsonProperty field, int index) => field.Value.ValueKind == JsonValueKind.String
        ? field.Value.GetString()!
        : throw new InvalidInputException($"messages[{index}].{field.Name} must be a string, got a JSON {Kind(field.Value)}.");

    private static string Kind(JsonElement element) => element.ValueKind.ToString().ToLowerInvariant();
}
