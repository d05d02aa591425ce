using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>The REST (HTTP/JSON) twin of the gRPC service under <c>/v2</c>; errors are <c>{"error": "..."}</c>.</summary>
public static class RestEndpoints
{
    /// <summary>Maps every route.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/v2/health/live", () => Results.Ok(new { live = true }));
        app.MapGet("/v2/health/ready", (ClusterReadiness readiness) =>
            readiness.IsReady ? Results.Ok(new { ready = true }) : Results.Json(new { ready = false }, statusCode: 503));

        var infer = app.MapGroup("/v2").AddEndpointFilter(new ApiKeyFilter(ApiKeyAuthorizer.InferScope, Error));
        infer.MapGet("", () =>
            Results.Ok(new { name = ServerDescription.Name, version = ServerDescription.Version, extensions = ServerDescription.Extensions }));
        foreach (var prefix in new[] { "/models/{model}", "/models/{model}/versions/{version}" })
        {
            infer.MapGet(prefix, (string model, string? version, ModelQueries models) => Guard(() => MetadataAsync(models, model, version ?? "")));
            infer.MapGet(prefix + "/ready", async (string model, string? version, ModelQueries models) =>
                await models.IsReadyAsync(model, version ?? "") ? Results.Ok(new { ready = true }) : Results.Json(new { ready = false }, statusCode: 400));
            infer.MapPost(prefix + "/infer", (string model, string? version, HttpRequest request, InferenceClient client, EdgeLimits limits) =>
                Guard(() => InferAsync(client, limits, model, version ?? "", request)));
            GenerateExtension.Map(infer, prefix);
        }

        infer.MapPost("/models/{model}/feedback", (string model, HttpRequest request, InferenceClient client) =>
            Guard(() => FeedbackAsync(client, model, request)));

        var admin = app.MapGroup("/v2").AddEndpointFilter(new ApiKeyFilter(ApiKeyAuthorizer.AdminScope, Error));
        admin.MapGet("/models/stats", (ModelQueries models) => Guard(() => StatisticsAsync(models, "", "")));
        admin.MapGet("/models/{model}/stats", (string model, ModelQueries models) => Guard(() => StatisticsAsync(models, model, "")));
        admin.MapGet("/models/{model}/versions/{version}/stats", (string model, string version, ModelQueries models) =>
            Guard(() => StatisticsAsync(models, model, version)));
        admin.MapPost("/repository/index", (InferenceClient client) => Guard(async () => Results.Ok(RepositoryEntries.From(await client.GetModelsAsync())
            .Select(e => new { name = e.Name, version = e.Version, state = e.State, reason = e.Reason }))));
        admin.MapPost("/repository/models/{model}/load", (string model, ModelRepositoryControl repository) => Guard(async () =>
        {
            await repository.SetLoadedAsync(model, loaded: true);
            return Results.Ok();
        }));
        admin.MapPost("/repository/models/{model}/unload", (string model, ModelRepositoryControl repository) => Guard(async () =>
        {
            await repository.SetLoadedAsync(model, loaded: false);
            return Results.Ok();
        }));
    }

    private static async Task<IResult> InferAsync(InferenceClient client, EdgeLimits limits, string model, string version, HttpRequest http)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Body, cancellationToken: http.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            return Error(StatusCode.InvalidArgument, $"The request body is not valid JSON: {e.Message}");
        }

        using (body)
        {
            ModelInferRequest request;
            try
            {
                request = RestTensors.ReadRequest(model, version, body.RootElement, limits.MaxElementsPerTensor);
            }
            catch (InvalidOperationException e) when (e.InnerException is DecoderFallbackException)
            {
                // The parser checks UTF-8 inside strings only when one is read.
                return Error(StatusCode.InvalidArgument, "The request body is not valid UTF-8.");
            }

            if (http.Headers[ExperimentKeyHeader] is [{ Length: > 0 } key] && !request.Parameters.ContainsKey(InferRequestRunner.ExperimentKeyParameter))
            {
                request.Parameters[InferRequestRunner.ExperimentKeyParameter] = new InferParameter { StringParam = key };
            }

            var response = await InferRequestRunner.InferAsync(client, limits, request, deadline: null, http.HttpContext.RequestAborted);
            return Results.Text(RestTensors.WriteResponse(response).ToJsonString(), "application/json");
        }
    }

    /// <summary>The header carrying the experiment assignment key; the request's <c>experiment_key</c> parameter wins over it.</summary>
    public const string ExperimentKeyHeader = "X-Experiment-Key";

    /// <summary><c>{"id": "...", "accepted": true|false}</c>: whether the answer to request <c>id</c> was used, for its experiment arm's acceptance
    /// rate.</summary>
    private static async Task<IResult> FeedbackAsync(InferenceClient client, string model, HttpRequest http)
    {
        JsonDocument body;
        try
        {
            body = await JsonBodies.ReadAsync(http, FeedbackBodyLimit);
        }
        catch (RequestBodyException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: e.HttpStatus);
        }

        using var owned = body;
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return Error(StatusCode.InvalidArgument, $"Feedback for model '{model}': field 'id' must be the string id the request was answered with.");
        }

        if (!root.TryGetProperty("accepted", out var accepted) || accepted.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return Error(StatusCode.InvalidArgument, $"Feedback for model '{model}': field 'accepted' must be true or false.");
        }

        string requestId;
        try
        {
            requestId = id.GetString()!;
        }
        catch (Exception e) when (JsonBodies.IsBadUtf8(e))
        {
            return Error(StatusCode.InvalidArgument, JsonBodies.BadUtf8().Message);
        }

        await client.SendFeedbackAsync(model, requestId, accepted.GetBoolean());
        return Results.Ok(new { counted = true });
    }

    /// <summary>The largest feedback body read, in bytes.</summary>
    private const long FeedbackBodyLimit = 16 * 1024;

    private static async Task<IResult> MetadataAsync(ModelQueries models, string model, string version)
    {
        var (descriptor, target) = await models.MetadataAsync(model, version);
        return Results.Ok(new
        {
            name = descriptor.Name,
            versions = descriptor.ServedVersions.Select(v => v.Version.ToString(CultureInfo.InvariantCulture)),
            platform = "onnxruntime_onnx",
            inputs = target.Version.Inputs.Select(Spec),
            outputs = target.Version.Outputs.Select(Spec),
        });
    }

    private static async Task<IResult> StatisticsAsync(ModelQueries models, string model, string version) =>
        Results.Json(StatisticsReport.Of(await models.StatisticsAsync(model, version)), StatisticsReport.Json);

    private static object Spec(TensorSpec spec) => new { name = spec.Name, datatype = spec.ElementType.ToProtocolName(), shape = spec.Shape };

    /// <summary>Runs a handler, answering cluster errors with their status and <c>{"error": message}</c>.</summary>
    private static async Task<IResult> Guard(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (QueueFullException e)
        {
            return new RetryAfterResult(Error(StatusCode.ResourceExhausted, EdgeErrors.MessageOf(e)), e.RetryAfter);
        }
        catch (Exception e) when (EdgeErrors.StatusOf(e) is { } status)
        {
            return Error(status, EdgeErrors.MessageOf(e));
        }
    }

    /// <summary>A REST error: the status's HTTP code and <c>{"error": message}</c>.</summary>
    internal static IResult Error(StatusCode status, string message) =>
        Results.Json(new JsonObject { ["error"] = message }, statusCode: EdgeErrors.HttpStatusOf(status));

    /// <summary>A 429 with HTTP's <c>Retry-After</c> (whole seconds) and the finer <c>retry-after-ms</c>.</summary>
    internal sealed class RetryAfterResult(IResult inner, TimeSpan delay) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryHint.Seconds(delay);
            httpContext.Response.Headers["retry-after-ms"] = RetryHint.Milliseconds(delay);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
