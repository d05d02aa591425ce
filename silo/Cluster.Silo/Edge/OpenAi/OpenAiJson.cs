using System.Text.Json;
using Cluster.Contracts.Generation;

namespace Cluster.Silo.Edge.OpenAi;

/// <summary>
/// The JSON of one answer as OpenAI sends it: a <c>chat.completion</c> or <c>text_completion</c> object, or the
/// chunks of its stream (<c>chat.completion.chunk</c> with a <c>delta</c>; <c>text_completion</c> with a <c>text</c>).
/// </summary>
/// <param name="Chat">Whether the request was a chat completion.</param>
/// <param name="Model">The model's name.</param>
/// <param name="IncludeUsage">Whether chunks carry <c>usage</c> (null but on the last, which has no choices).</param>
public sealed record OpenAiJson(bool Chat, string Model, bool IncludeUsage)
{
    /// <summary>The answer's id: <c>chatcmpl-…</c> or <c>cmpl-…</c>.</summary>
    public string Id { get; } = (Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N");

    /// <summary>When the answer was made, in Unix seconds.</summary>
    public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>OpenAI's finish reason for the engine's: <c>length</c> stays; <c>stop</c> and anything else (a cancelled request's) read as
    /// <c>stop</c>.</summary>
    public static string FinishReasonOf(string? engine) => engine == "length" ? "length" : "stop";

    /// <summary>The whole answer: its text, why it ended, and its token counts.</summary>
    public void WriteCompletion(Utf8JsonWriter json, string text, GeneratedToken last)
    {
        WriteHead(json, Chat ? "chat.completion" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (Chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", text);
            json.WriteNull("refusal");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }

        json.WriteNull("logprobs");
        json.WriteString("finish_reason", FinishReasonOf(last.FinishReason));
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, last);
        json.WriteEndObject();
    }

    /// <summary>
    /// One chunk of a stream with one choice: <paramref name="text"/> (a chat's first chunk, with a null text,
    /// carries the assistant's role), or, with <paramref name="finishReason"/>, the choice's end.
    /// </summary>
    public void WriteChunk(Utf8JsonWriter json, string? text, string? finishReason)
    {
        WriteHead(json, Chat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (Chat)
        {
            json.WriteStartObject("delta");
            if (text is null && finishReason is null)
            {
                json.WriteString("role", "assistant");
                json.WriteString("content", "");
            }
            else if (text is not null)
            {
                json.WriteString("content", text);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text ?? "");
        }

        json.WriteNull("logprobs");
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    /// <summary>The last chunk of a stream that asked for usage: no choices, the token counts.</summary>
    public void WriteUsageChunk(Utf8JsonWriter json, GeneratedToken last)
    {
        WriteHead(json, Chat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, last);
        json.WriteEndObject();
    }

    private void WriteHead(Utf8JsonWriter json, string type)
    {
        json.WriteStartObject();
        json.WriteString("id", Id);
        json.WriteString("object", type);
        json.WriteNumber("created", Created);
        json.WriteString("model", Model);
        json.WriteNull("system_fingerprint");
    }

    private static void WriteUsage(Utf8JsonWriter json, GeneratedToken last)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", last.PromptTokens);
        json.WriteNumber("completion_tokens", last.GeneratedTokens);
        json.WriteNumber("total_tokens", last.PromptTokens + last.GeneratedTokens);
        json.WriteEndObject();
    }
}
