using Cluster.Contracts.Generation;

namespace Cluster.Silo.Edge.OpenAi;

/// <summary>A completion or chat completion request, read from OpenAI's JSON.</summary>
/// <param name="Model">The model to generate with.</param>
/// <param name="Generation">The prompt (or messages) and sampling settings.</param>
/// <param name="Stream">Whether to answer as server-sent events.</param>
/// <param name="IncludeUsage">Whether a stream ends with a usage chunk (<c>stream_options.include_usage</c>).</param>
/// <param name="MaxTokensField">The field the token limit came in (<c>max_tokens</c> or <c>max_completion_tokens</c>), for errors about it.</param>
public sealed record OpenAiRequest(string Model, GenerationRequest Generation, bool Stream, bool IncludeUsage, string MaxTokensField);

/// <summary>A request OpenAI's API refuses with 400 <c>invalid_request_error</c>, naming the field at fault.</summary>
/// <param name="param">The field (<c>messages[2].role</c>), or null when no one field is at fault.</param>
/// <param name="message">What is wrong and what is accepted.</param>
public sealed class OpenAiRequestException(string? param, string message) : Exception(message)
{
    /// <summary>The field at fault, as OpenAI's <c>error.param</c>.</summary>
    public string? Param { get; } = param;
}
