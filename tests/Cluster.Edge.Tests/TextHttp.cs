using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cluster.Edge.Tests;

/// <summary>JSON posts to the REST port's text routes and the events of their server-sent streams.</summary>
internal static class TextHttp
{
    /// <summary>Posts <paramref name="body"/> (JSON text) with the bearer <paramref name="key"/> (none when null); the response's headers are read, its body
    /// not yet.</summary>
    public static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string body, string? key = EdgeFixture.InferKey,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Posts and parses the JSON answer.</summary>
    public static async Task<(int Status, JsonElement Body)> PostJsonAsync(HttpClient http, string path, string body, string? key = EdgeFixture.InferKey)
    {
        using var response = await PostAsync(http, path, body, key);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The <c>data:</c> payloads of a server-sent stream, in order, up to its end (<c>[DONE]</c> included as text).</summary>
    public static async Task<List<string>> EventsAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
            else
            {
                Assert.Equal("", line);
            }
        }

        return events;
    }
}
