using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Silo.Edge;

/// <summary>A request body refused before it was understood: too large (413) or not JSON (400).</summary>
/// <param name="httpStatus">413 or 400.</param>
/// <param name="message">What was wrong.</param>
public sealed class RequestBodyException(int httpStatus, string message) : Exception(message)
{
    /// <summary>The HTTP status to answer.</summary>
    public int HttpStatus { get; } = httpStatus;
}

/// <summary>Reads the JSON bodies of the text routes under a size limit of their own.</summary>
public static class JsonBodies
{
    /// <summary>The body as a JSON document; throws <see cref="RequestBodyException"/> when it exceeds <paramref name="limit"/> bytes or is not JSON.</summary>
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        // Kestrel enforces the limit as the body streams in, so a chunked body past it is cut off too.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }
        catch (JsonException e)
        {
            throw new RequestBodyException(StatusCodes.Status400BadRequest, $"The request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="error"/> is a string in the body that is not valid UTF-8 (checked only when the string is read).</summary>
    public static bool IsBadUtf8(Exception error) => error is InvalidOperationException { InnerException: DecoderFallbackException };

    /// <summary>The refusal of a body whose strings are not valid UTF-8.</summary>
    public static RequestBodyException BadUtf8() => new(StatusCodes.Status400BadRequest, "The request body is not valid UTF-8.");

    private static RequestBodyException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than this route's limit of {limit} bytes (Cluster:Edge:MaxTextBodyBytes).");
}
