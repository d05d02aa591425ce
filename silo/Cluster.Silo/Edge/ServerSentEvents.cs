using System.Buffers;
using System.Text.Json;

namespace Cluster.Silo.Edge;

/// <summary>
/// A <c>text/event-stream</c> response of <c>data: {json}</c> events, each flushed as it is written, its JSON
/// written straight into the response's buffer.
/// </summary>
public sealed class ServerSentEvents : IDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    private readonly HttpResponse _response;
    private readonly Utf8JsonWriter _json;

    private ServerSentEvents(HttpResponse response)
    {
        _response = response;
        _json = new Utf8JsonWriter(response.BodyWriter);
    }

    /// <summary>Sends the response's headers (200) and returns the stream to write events to.</summary>
    public static async Task<ServerSentEvents> StartAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(response.HttpContext.RequestAborted);
        return new ServerSentEvents(response);
    }

    /// <summary>Writes one event: <c>data: </c>, the JSON <paramref name="write"/> writes, a blank line; then flushes.</summary>
    public async ValueTask WriteAsync<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        _response.BodyWriter.Write(DataPrefix);
        _json.Reset(_response.BodyWriter);
        write(_json, state);
        _json.Flush();
        _response.BodyWriter.Write(EventEnd);
        await _response.BodyWriter.FlushAsync(_response.HttpContext.RequestAborted);
    }

    /// <summary>Writes OpenAI's closing <c>data: [DONE]</c>.</summary>
    public async ValueTask WriteDoneAsync()
    {
        _response.BodyWriter.Write(DoneEvent);
        await _response.BodyWriter.FlushAsync(_response.HttpContext.RequestAborted);
    }

    /// <inheritdoc />
    public void Dispose() => _json.Dispose();
}
