using System.Text;
using System.Text.Json;
using Cluster.Contracts.Generation;
using Cluster.Inference.Generation;

namespace Cluster.Silo.Edge.OpenAi;

/// <summary>
/// Reads <c>/v1/completions</c> and <c>/v1/chat/completions</c> bodies into a <see cref="GenerationRequest"/>.
/// Every field is checked for its JSON type, and a field this server does not take is refused by name rather
/// than ignored, so a client never believes a setting applied when it did not. A null field counts as absent.
/// </summary>
public static class OpenAiRequestReader
{
    /// <summary>Fields of a completion request.</summary>
    public static readonly IReadOnlyList<string> CompletionFields =
        ["model", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop", "n", "stream", "stream_options", "user", "top_k", "ignore_eos"];

    /// <summary>Fields of a chat completion request.</summary>
    public static readonly IReadOnlyList<string> ChatFields =
        ["model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "n", "stream", "stream_options", "user", "top_k",
            "ignore_eos"];

    /// <summary>Roles a chat message may take: the chat template's, and <c>developer</c> (read as <c>system</c>).</summary>
    public static readonly IReadOnlyList<string> Roles = ["developer", .. ChatTemplate.Roles];

    /// <summary>The request in <paramref name="body"/>; throws <see cref="OpenAiRequestException"/> naming the field at fault.</summary>
    public static OpenAiRequest Read(JsonElement body, bool chat)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new OpenAiRequestException(null, $"The request body must be a JSON object, not {Kind(body)}.");
        }

        var fields = chat ? ChatFields : CompletionFields;
        var generation = new GenerationRequest();
        string? model = null;
        var stream = false;
        var includeUsage = false;
        var maxTokensField = "max_tokens";
        var hasInput = false;
        foreach (var field in body.EnumerateObject())
        {
            var name = field.Name;
            var value = field.Value;
            if (!fields.Contains(name))
            {
                throw new OpenAiRequestException(name, $"Unrecognized request argument supplied: {name}. This endpoint takes {string.Join(", ", fields)}.");
            }

            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (name)
            {
                case "model":
                    model = String(name, value);
                    break;
                case "prompt":
                    generation = generation with { Prompt = Prompt(value) };
                    hasInput = true;
                    break;
                case "messages":
                    generation = generation with { Messages = Messages(value) };
                    hasInput = true;
                    break;
                case "max_tokens" or "max_completion_tokens":
                    generation = generation with { MaxTokens = (int)Math.Clamp(Integer(name, value), int.MinValue, int.MaxValue) };
                    maxTokensField = name;
                    break;
                case "temperature":
                    generation = generation with { Temperature = Number(name, value) };
                    break;
                case "top_p":
                    generation = generation with { TopP = Number(name, value) };
                    break;
                case "top_k":
                    generation = generation with { TopK = (int)Math.Clamp(Integer(name, value), int.MinValue, int.MaxValue) };
                    break;
                case "seed":
                    // OpenAI's seed is a signed 64-bit integer; the sampler's is unsigned. Each value keeps its own stream.
                    generation = generation with { Seed = unchecked((ulong)Integer(name, value)) };
                    break;
                case "stop":
                    generation = generation with { Stop = Stop(value) };
                    break;
                case "n":
                    var n = Integer(name, value);
                    if (n != 1)
                    {
                        throw new OpenAiRequestException(
                            name, $"n must be 1: this server generates one choice per request, got {n}. Send several requests for several choices.");
                    }

                    break;
                case "stream":
                    stream = Bool(name, value);
                    break;
                case "stream_options":
                    includeUsage = IncludeUsage(value);
                    break;
                case "user":
                    // The end-user id keeps the user in one arm of the model's experiment; it is never logged.
                    var user = String(name, value);
                    generation = generation with
                    {
                        AssignmentKey = user.Length <= InferRequestRunner.MaxExperimentKeyLength
                            ? user
                            : throw new OpenAiRequestException(
                                name, $"user must be at most {InferRequestRunner.MaxExperimentKeyLength} characters, got {user.Length}."),
                    };
                    break;
                case "ignore_eos":
                    generation = generation with { IgnoreEos = Bool(name, value) };
                    break;
            }
        }

        if (string.IsNullOrEmpty(model))
        {
            throw new OpenAiRequestException("model", "model is required: the name of a generation model (GET /v1/models lists them).");
        }

        if (!hasInput)
        {
            throw chat
                ? new OpenAiRequestException("messages", "messages is required: a list of {\"role\", \"content\"} objects.")
                : new OpenAiRequestException("prompt", "prompt is required: a string.");
        }

        return new OpenAiRequest(model, generation, stream, stream && includeUsage, maxTokensField);
    }

    private static string Prompt(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.String)
        {
            return value[0].GetString()!;
        }

        throw new OpenAiRequestException(
            "prompt", "prompt must be a string or a list of one string; " +
                $"got {Kind(value)}{(value.ValueKind == JsonValueKind.Array ? $" of {value.GetArrayLength()} items" : "")}. Lists of several prompts and " +
                    "token ids are not supported.");
    }

    private static ChatTurn[] Messages(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new OpenAiRequestException("messages", $"messages must be a list of {{\"role\", \"content\"}} objects, got {Kind(value)}.");
        }

        if (value.GetArrayLength() == 0)
        {
            throw new OpenAiRequestException("messages", "messages is empty: a conversation needs at least one message.");
        }

        var turns = new ChatTurn[value.GetArrayLength()];
        var i = 0;
        foreach (var message in value.EnumerateArray())
        {
            turns[i] = Message(message, $"messages[{i}]");
            i++;
        }

        return turns;
    }

    private static ChatTurn Message(JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new OpenAiRequestException(path, $"{path} must be an object with role and content, got {Kind(message)}.");
        }

        string? role = null;
        string? content = null;
        foreach (var field in message.EnumerateObject())
        {
            var name = $"{path}.{field.Name}";
            switch (field.Name)
            {
                case "role":
                    role = String(name, field.Value);
                    break;
                case "content" when field.Value.ValueKind != JsonValueKind.Null:
                    content = Content(field.Value, name);
                    break;
                case "content":
                    break;
                case "name":
                    // A participant's name: accepted, not rendered (the chat templates have no place for it).
                    String(name, field.Value);
                    break;
                default:
                    throw new OpenAiRequestException(name, $"{name} is not supported: a message takes role, content and name.");
            }
        }

        if (role is null)
        {
            throw new OpenAiRequestException($"{path}.role", $"{path}.role is required: one of {string.Join(", ", Roles)}.");
        }

        if (!Roles.Contains(role))
        {
            throw new OpenAiRequestException($"{path}.role", $"{path}.role must be one of {string.Join(", ", Roles)}; got \"{role}\".");
        }

        return new ChatTurn(role == "developer" ? "system" : role, content
            ?? throw new OpenAiRequestException($"{path}.content", $"{path}.content is required: a string or a list of text parts."));
    }

    /// <summary>A message's text: a string, or the texts of a list of <c>{"type": "text", "text": ...}</c> parts joined.</summary>
    private static string Content(JsonElement value, string path)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new OpenAiRequestException(path, $"{path} must be a string or a list of text parts, got {Kind(value)}.");
        }

        var text = new StringBuilder();
        var j = 0;
        foreach (var part in value.EnumerateArray())
        {
            var at = $"{path}[{j++}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw new OpenAiRequestException(at, $"{at} must be an object like {{\"type\": \"text\", \"text\": \"...\"}}, got {Kind(part)}.");
            }

            string? type = null;
            string? piece = null;
            foreach (var field in part.EnumerateObject())
            {
                switch (field.Name)
                {
                    case "type":
                        type = String($"{at}.type", field.Value);
                        break;
                    case "text":
                        piece = String($"{at}.text", field.Value);
                        break;
                    default:
                        // Other part types (image_url, input_audio, file) come with fields of their own.
                        if (type is null or "text")
                        {
                            throw new OpenAiRequestException($"{at}.{field.Name}", $"{at}.{field.Name} is not supported: a content part takes type \"text\" " +
                                "and text.");
                        }

                        break;
                }
            }

            if (type != "text")
            {
                throw new OpenAiRequestException($"{at}.type", $"{at}.type must be \"text\"; got {(type is null ? "none" : $"\"{type}\"")}. This server " +
                    "takes text only.");
            }

            text.Append(piece ?? throw new OpenAiRequestException($"{at}.text", $"{at}.text is required."));
        }

        return text.ToString();
    }

    private static string[] Stop(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String))
        {
            return [.. value.EnumerateArray().Select(s => s.GetString()!)];
        }

        throw new OpenAiRequestException("stop", $"stop must be a string or a list of strings, got {Kind(value)}.");
    }

    private static bool IncludeUsage(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new OpenAiRequestException("stream_options", $"stream_options must be an object like {{\"include_usage\": true}}, got {Kind(value)}.");
        }

        var include = false;
        foreach (var field in value.EnumerateObject())
        {
            include = field.Name == "include_usage"
                ? field.Value.ValueKind == JsonValueKind.Null || Bool("stream_options.include_usage", field.Value)
                : throw new OpenAiRequestException($"stream_options.{field.Name}", $"stream_options.{field.Name} is not supported: stream_options takes " +
                    "include_usage.");
        }

        return include;
    }

    private static string String(string name, JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(name, "a string", value);

    private static bool Bool(string name, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongType(name, "a boolean", value),
    };

    private static float Number(string name, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? (float)value.GetDouble() : throw WrongType(name, "a number", value);

    private static long Integer(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw WrongType(name, "an integer", value);
        }

        if (value.TryGetInt64(out var integer))
        {
            return integer;
        }

        // Whole numbers written with a fraction or exponent (8.0, 1e3) are integers too; others are refused.
        var number = value.GetDouble();
        return number == Math.Floor(number) && Math.Abs(number) < 9e18
            ? (long)number
            : throw new OpenAiRequestException(name, $"{name} must be an integer, got {value.GetRawText()}.");
    }

    private static OpenAiRequestException WrongType(string name, string expected, JsonElement value) =>
        new(name, $"{name} must be {expected}, " +
            $"got {Kind(value)}{(value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False ? $" {value.GetRawText()}" : "")}.");

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
