using System.Text.Json;
using System.Text.RegularExpressions;
using Cluster.Contracts.Errors;
using Grpc.Core;

namespace Cluster.Silo.Edge.OpenAi;

/// <summary>
/// Errors in OpenAI's shape, <c>{"error": {"message", "type", "param", "code"}}</c>, with the HTTP status the
/// cluster's exception maps to for the other surfaces (<see cref="EdgeErrors"/>).
/// </summary>
public static partial class OpenAiErrors
{
    /// <summary>One error: its HTTP status and the four fields of its body.</summary>
    public readonly record struct OpenAiError(int Status, string Message, string Type, string? Param, string? Code);

    /// <summary>The error for <paramref name="error"/>, or null for a fault of the server itself (let it surface as a 500).</summary>
    /// <param name="error">What the request ended with.</param>
    /// <param name="request">The request, when it was read: its fields name the parameter of the engine's refusals.</param>
    public static OpenAiError? Of(Exception error, OpenAiRequest? request) => error switch
    {
        OpenAiRequestException e => new OpenAiError(400, EdgeErrors.MessageOf(e), "invalid_request_error", e.Param, null),
        RequestBodyException e =>
            new OpenAiError(e.HttpStatus, e.Message, "invalid_request_error", null, e.HttpStatus == 413 ? "request_too_large" : "invalid_json"),
        InvalidInputException e => new OpenAiError(400, EdgeErrors.MessageOf(e), "invalid_request_error", ParamOf(e.Message, request), null),
        _ when JsonBodies.IsBadUtf8(error) => Of(JsonBodies.BadUtf8(), request),
        _ when EdgeErrors.StatusOf(error) is { } status => Of(status, EdgeErrors.MessageOf(error)),
        _ => null,
    };

    /// <summary>The error for a refusal the edge decided itself (an API key check).</summary>
    public static OpenAiError Of(StatusCode status, string message)
    {
        var http = EdgeErrors.HttpStatusOf(status);
        var (type, code) = http switch
        {
            401 => ("invalid_request_error", "invalid_api_key"),
            403 => ("permission_error", "insufficient_scope"),
            404 => ("invalid_request_error", "model_not_found"),
            400 => ("invalid_request_error", null),
            429 => ("rate_limit_error", "rate_limit_exceeded"),
            503 => ("server_error", "service_unavailable"),
            504 => ("server_error", "timeout"),
            _ => ("server_error", (string?)null),
        };
        return new OpenAiError(http, message, type, status == StatusCode.NotFound ? "model" : null, code);
    }

    /// <summary>The error as a response, with <c>Retry-After</c> when the queue was full.</summary>
    public static IResult Result(OpenAiError error, Exception? cause = null)
    {
        var result = Results.Json(new { error = new { message = error.Message, type = error.Type, param = error.Param, code = error.Code } },
            statusCode: error.Status);
        return cause is QueueFullException { RetryAfter: var delay } ? new RestEndpoints.RetryAfterResult(result, delay) : result;
    }

    /// <summary>The error as the data of a server-sent event, for a stream that already answered 200.</summary>
    public static void Write(Utf8JsonWriter json, OpenAiError error)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        json.WriteString("param", error.Param);
        json.WriteString("code", error.Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// The request field an engine refusal names: its messages begin with the field (<c>max_tokens must be…</c>,
    /// <c>messages[0].role must be…</c>, <c>text_input is empty…</c>), given here in OpenAI's names.
    /// </summary>
    private static string? ParamOf(string message, OpenAiRequest? request)
    {
        var match = LeadingField().Match(message);
        if (!match.Success)
        {
            return null;
        }

        return match.Groups["field"].Value switch
        {
            "text_input" => "prompt",
            "max_tokens" => request?.MaxTokensField ?? "max_tokens",
            var field => field,
        };
    }

    [GeneratedRegex(@"^(?<field>text_input|messages(\[\d+\]\.\w+)?|max_tokens|temperature|top_p|top_k|stop)\b")]
    private static partial Regex LeadingField();
}
