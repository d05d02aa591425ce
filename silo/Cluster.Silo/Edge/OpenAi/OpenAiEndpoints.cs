using System.Buffers;
using System.Text;
using System.Text.Json;
using Cluster.Client;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;

namespace Cluster.Silo.Edge.OpenAi;

/// <summary>
/// OpenAI's HTTP API on the REST port, for the generation models: <c>GET /v1/models</c>,
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c>, whole or streamed as server-sent events.
/// Calls need the <c>infer</c> scope when API keys are on; errors come in OpenAI's shape (<see cref="OpenAiErrors"/>).
/// </summary>
public static class OpenAiEndpoints
{
    /// <summary>What <c>owned_by</c> says of every model.</summary>
    public const string Owner = "cluster";

    /// <summary>Maps the <c>/v1</c> routes.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1")
            .AddEndpointFilter(new ApiKeyFilter(ApiKeyAuthorizer.InferScope, (status, message) => OpenAiErrors.Result(OpenAiErrors.Of(status, message))));
        v1.MapGet("/models", (InferenceClient client) => ModelsAsync(client, name: null));
        v1.MapGet("/models/{model}", (string model, InferenceClient client) => ModelsAsync(client, model));
        v1.MapPost("/completions", (HttpContext http, InferenceClient client, EdgeLimits limits) => GenerateAsync(http, client, limits, chat: false))
            .WithMetadata(StreamsEndOnStop.Marker);
        v1.MapPost("/chat/completions", (HttpContext http, InferenceClient client, EdgeLimits limits) => GenerateAsync(http, client, limits, chat: true))
            .WithMetadata(StreamsEndOnStop.Marker);
    }

    /// <summary>The generation models as OpenAI's list, or one of them (<paramref name="name"/>) as a model object.</summary>
    private static async Task<IResult> ModelsAsync(InferenceClient client, string? name)
    {
        ModelDescriptor[] models;
        try
        {
            models = await client.GetModelsAsync();
        }
        catch (Exception e) when (OpenAiErrors.Of(e, request: null) is { } error)
        {
            return OpenAiErrors.Result(error, e);
        }

        var generating = models.Where(m => Array.Exists(m.ServedVersions, v => v.Generates && m.StateOf(v).Ready)).Select(m => m.Name);
        if (name is null)
        {
            return Results.Json(new { @object = "list", data = generating.Select(Model) });
        }

        return generating.Contains(name)
            ? Results.Json(Model(name))
            : OpenAiErrors.Result(OpenAiErrors.Of(Grpc.Core.StatusCode.NotFound, $"The model '{name}' does not exist or does not generate text."));
    }

    private static object Model(string name) => new { id = name, @object = "model", created = 0L, owned_by = Owner };

    /// <summary>
    /// Runs one completion. The first token (or the refusal) is awaited before any byte of the answer, so a
    /// refused request gets its own HTTP status even when it asked for a stream. The client going away cancels
    /// the generation through the request's abort token.
    /// </summary>
    private static async Task<IResult> GenerateAsync(HttpContext http, InferenceClient client, EdgeLimits limits, bool chat)
    {
        var aborted = http.RequestAborted;
        OpenAiRequest? request = null;
        IAsyncEnumerator<GeneratedToken>? tokens = null;
        try
        {
            using (var body = await JsonBodies.ReadAsync(http.Request, limits.MaxTextBodyBytes))
            {
                request = OpenAiRequestReader.Read(body.RootElement, chat);
            }

            var target = await client.ResolveAsync(request.Model);
            if (!target.Version.Generates)
            {
                throw new OpenAiRequestException("model", $"The model '{request.Model}' does not generate text; GET /v1/models lists the models that do.");
            }

            var json = new OpenAiJson(chat, target.Model, request.IncludeUsage);
            tokens = client.GenerateAsync(request.Model, request.Generation with { Id = json.Id }, version: null, aborted).GetAsyncEnumerator(aborted);
            var more = await tokens.MoveNextAsync();
            if (!request.Stream)
            {
                return await WholeAsync(json, tokens, more);
            }

            await StreamAsync(http.Response, json, request, tokens, more);
            return Results.Empty;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e) when (!http.Response.HasStarted && OpenAiErrors.Of(e, request) is { } error)
        {
            return OpenAiErrors.Result(error, e);
        }
        finally
        {
            if (tokens is not null)
            {
                await tokens.DisposeAsync();
            }
        }
    }

    private static async Task<IResult> WholeAsync(OpenAiJson json, IAsyncEnumerator<GeneratedToken> tokens, bool more)
    {
        var text = new StringBuilder();
        var last = new GeneratedToken { TokenId = -1 };
        for (; more; more = await tokens.MoveNextAsync())
        {
            text.Append(tokens.Current.Text);
            last = tokens.Current;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            json.WriteCompletion(writer, text.ToString(), last);
        }

        return Results.Bytes(buffer.WrittenMemory, "application/json");
    }

    /// <summary>
    /// The answer as server-sent events: a chat's role chunk, one chunk per piece of text, the finish chunk, the
    /// usage chunk when asked for, then <c>[DONE]</c>. An error after the stream began becomes an error event that ends it.
    /// </summary>
    private static async Task StreamAsync(HttpResponse response, OpenAiJson json, OpenAiRequest request, IAsyncEnumerator<GeneratedToken> tokens, bool more)
    {
        using var events = await ServerSentEvents.StartAsync(response);
        if (json.Chat)
        {
            await events.WriteAsync(json, static (writer, json) => json.WriteChunk(writer, text: null, finishReason: null));
        }

        var last = new GeneratedToken { TokenId = -1 };
        try
        {
            for (; more; more = await tokens.MoveNextAsync())
            {
                last = tokens.Current;

                // A piece without text (half a character, a possible stop string) tells the client nothing yet.
                if (last.Text.Length > 0)
                {
                    await events.WriteAsync((json, last.Text), static (writer, state) => state.json.WriteChunk(writer, state.Text, finishReason: null));
                }
            }
        }
        catch (Exception e) when (!response.HttpContext.RequestAborted.IsCancellationRequested && OpenAiErrors.Of(e, request) is { } error)
        {
            await events.WriteAsync(error, OpenAiErrors.Write);
            return;
        }

        await events.WriteAsync((json, OpenAiJson.FinishReasonOf(last.FinishReason)), static (writer, state) =>
            state.json.WriteChunk(writer, text: null, state.Item2));
        if (json.IncludeUsage)
        {
            await events.WriteAsync((json, last), static (writer, state) => state.json.WriteUsageChunk(writer, state.last));
        }

        await events.WriteDoneAsync();
    }
}
