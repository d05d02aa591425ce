using System.Globalization;
using System.Text;
using System.Text.Json;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;
using Cluster.Inference.Generation;
using Google.Protobuf.Collections;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>
/// Triton's generate extension on the REST port: <c>POST /v2/models/{model}[/versions/{v}]/generate</c> answers
/// one JSON object, <c>…/generate_stream</c> server-sent events, one per piece of text. The body carries
/// <c>text_input</c> and the generation parameters, at the top level or in a <c>parameters</c> object, read by
/// the gRPC path's <see cref="GenerationRequests.Settings"/>. Errors are <c>{"error": "..."}</c>, as on the rest of <c>/v2</c>.
/// </summary>
public static class GenerateExtension
{
    /// <summary>Maps both routes under <paramref name="prefix"/> (<c>/models/{model}</c> or with <c>/versions/{version}</c>) of the <c>/v2</c> group.</summary>
    public static void Map(RouteGroupBuilder v2, string prefix)
    {
        v2.MapPost(prefix + "/generate", (string model, string? version, HttpContext http, InferenceClient client, EdgeLimits limits) =>
            GenerateAsync(http, client, limits, model, version ?? "", streamRoute: false)).WithMetadata(StreamsEndOnStop.Marker);
        v2.MapPost(prefix + "/generate_stream", (string model, string? version, HttpContext http, InferenceClient client, EdgeLimits limits) =>
            GenerateAsync(http, client, limits, model, version ?? "", streamRoute: true)).WithMetadata(StreamsEndOnStop.Marker);
    }

    private static async Task<IResult> GenerateAsync(HttpContext http, InferenceClient client, EdgeLimits limits, string model, string version,
        bool streamRoute)
    {
        var aborted = http.RequestAborted;
        IAsyncEnumerator<GeneratedToken>? tokens = null;
        try
        {
            var requested = InferRequestRunner.ParseVersion(model, version);
            var target = await client.ResolveAsync(model, requested);
            if (!target.Version.Generates)
            {
                throw new InvalidInputException($"Model '{model}' version {target.Version.Version} does not generate text; call /infer with its inputs.");
            }

            GenerationRequest generation;
            bool stream;
            using (var body = await JsonBodies.ReadAsync(http.Request, limits.MaxTextBodyBytes))
            {
                (generation, stream) = Read(model, body.RootElement);
            }

            tokens = client.GenerateAsync(model, generation, requested, aborted).GetAsyncEnumerator(aborted);

            // The first token (or the refusal) comes before any byte of the answer, so a refusal gets its own status.
            var more = await tokens.MoveNextAsync();
            if (streamRoute && stream)
            {
                await StreamAsync(http.Response, target, tokens, more);
                return Results.Empty;
            }

            var text = new StringBuilder();
            var last = new GeneratedToken { TokenId = -1 };
            for (; more; more = await tokens.MoveNextAsync())
            {
                text.Append(tokens.Current.Text);
                last = tokens.Current;
            }

            if (!streamRoute)
            {
                return Results.Bytes(Json(target, text.ToString(), last), "application/json");
            }

            // generate_stream with "stream": false: one event with the whole text.
            using var events = await ServerSentEvents.StartAsync(http.Response);
            await events.WriteAsync((target, Text: text.ToString(), last), static (json, s) => Write(json, s.target, s.Text, s.last));
            return Results.Empty;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (RequestBodyException e) when (!http.Response.HasStarted)
        {
            return Results.Json(new { error = e.Message }, statusCode: e.HttpStatus);
        }
        catch (Exception e) when (!http.Response.HasStarted && JsonBodies.IsBadUtf8(e))
        {
            return RestEndpoints.Error(StatusCode.InvalidArgument, JsonBodies.BadUtf8().Message);
        }
        catch (QueueFullException e) when (!http.Response.HasStarted)
        {
            return new RestEndpoints.RetryAfterResult(RestEndpoints.Error(StatusCode.ResourceExhausted, EdgeErrors.MessageOf(e)), e.RetryAfter);
        }
        catch (Exception e) when (!http.Response.HasStarted && EdgeErrors.StatusOf(e) is { } status)
        {
            return RestEndpoints.Error(status, EdgeErrors.MessageOf(e));
        }
        finally
        {
            if (tokens is not null)
            {
                await tokens.DisposeAsync();
            }
        }
    }

    /// <summary>One event per piece of text; the last carries the finish reason. An error after the stream began becomes an error event that ends it.</summary>
    private static async Task StreamAsync(HttpResponse response, ModelTarget target, IAsyncEnumerator<GeneratedToken> tokens, bool more)
    {
        using var events = await ServerSentEvents.StartAsync(response);
        try
        {
            for (; more; more = await tokens.MoveNextAsync())
            {
                var token = tokens.Current;

                // A piece without text (half a character, a possible stop string) tells the client nothing yet.
                if (token.Text.Length > 0 || token.FinishReason is not null)
                {
                    await events.WriteAsync((target, token), static (json, s) => Write(json, s.target, s.token.Text, s.token));
                }
            }
        }
        catch (Exception e) when (!response.HttpContext.RequestAborted.IsCancellationRequested && EdgeErrors.StatusOf(e) is not null)
        {
            await events.WriteAsync(EdgeErrors.MessageOf(e), static (json, message) =>
            {
                json.WriteStartObject();
                json.WriteString("error", message);
                json.WriteEndObject();
            });
        }
    }

    /// <summary>
    /// The generation a body asks for and whether to stream it: <c>text_input</c> is the prompt; every other
    /// top-level field, and each field of <c>parameters</c>, is a generation parameter.
    /// </summary>
    private static (GenerationRequest Request, bool Stream) Read(string model, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException($"Model '{model}': the request body must be a JSON object with text_input, got {body.ValueKind}.");
        }

        string? prompt = null;
        var parameters = new MapField<string, InferParameter>();
        foreach (var field in body.EnumerateObject())
        {
            switch (field.Name)
            {
                case GenerationSignature.TextInput:
                    prompt = field.Value.ValueKind == JsonValueKind.String
                        ? field.Value.GetString()
                        : throw new InvalidInputException($"Model '{model}': {GenerationSignature.TextInput} must be a string (the prompt), " +
                            $"got {field.Value.ValueKind}.");
                    break;
                case "parameters" when field.Value.ValueKind == JsonValueKind.Object:
                    foreach (var parameter in field.Value.EnumerateObject())
                    {
                        Add(model, parameters, parameter);
                    }

                    break;
                case "parameters":
                    throw new InvalidInputException($"Model '{model}': parameters must be an object, got {field.Value.ValueKind}.");
                default:
                    Add(model, parameters, field);
                    break;
            }
        }

        var (request, stream) = GenerationRequests.Settings(model, parameters);
        return (request with { Prompt = prompt
            ?? throw new InvalidInputException($"Model '{model}': {GenerationSignature.TextInput} is missing (the prompt, a string).") }, stream);
    }

    /// <summary>A JSON field as the parameter the gRPC path reads: integers, other numbers, booleans and strings by type; a list of strings (<c>stop</c>) as
    /// its JSON text.</summary>
    private static void Add(string model, MapField<string, InferParameter> parameters, JsonProperty field)
    {
        var value = field.Value;
        InferParameter? parameter = value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.True or JsonValueKind.False => new InferParameter { BoolParam = value.GetBoolean() },
            JsonValueKind.String => new InferParameter { StringParam = value.GetString() },
            JsonValueKind.Number when value.TryGetInt64(out var integer) => new InferParameter { Int64Param = integer },
            JsonValueKind.Number when value.TryGetUInt64(out var large) => new InferParameter { Uint64Param = large },
            JsonValueKind.Number => new InferParameter { DoubleParam = value.GetDouble() },
            JsonValueKind.Array when value.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) =>
                new InferParameter { StringParam = value.GetRawText() },
            _ => throw new InvalidInputException($"Model '{model}': parameter '{field.Name}' must be a number, a string, a boolean or a list of strings, " +
                $"got {value.ValueKind}."),
        };
        if (parameter is not null)
        {
            parameters[field.Name] = parameter;
        }
    }

    private static byte[] Json(ModelTarget target, string text, GeneratedToken last)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json, target, text, last);
        }

        return buffer.ToArray();
    }

    /// <summary>One response: Triton's <c>model_name</c>, <c>model_version</c> and <c>text_output</c>, and the gRPC path's finish reason and token
    /// counts.</summary>
    private static void Write(Utf8JsonWriter json, ModelTarget target, string text, GeneratedToken token)
    {
        json.WriteStartObject();
        json.WriteString("model_name", target.Model);
        json.WriteString("model_version", target.Version.Version.ToString(CultureInfo.InvariantCulture));
        json.WriteString(GenerationSignature.TextOutput, text);
        if (token.FinishReason is { } reason)
        {
            json.WriteString(GenerationRequests.FinishReason, reason);
        }

        json.WriteNumber(GenerationRequests.PromptTokens, token.PromptTokens);
        json.WriteNumber(GenerationRequests.CompletionTokens, token.GeneratedTokens);
        json.WriteEndObject();
    }
}
