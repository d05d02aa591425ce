using System.Globalization;
using Cluster.Contracts.Logging;
using Cluster.Silo.Configuration;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Silo.Edge;

/// <summary>
/// Runs after routing and before any endpoint reads its request: an endpoint answers only on its own port
/// (<see cref="LocalPortMetadata"/>; one without a port is not served), a gRPC call's API key is checked from its headers
/// before its message is read, and no more than <see cref="EdgeSettings.MaxConcurrentRequests"/> requests run at once.
/// A gRPC call to a method no service offers is answered UNIMPLEMENTED here (gRPC's own catch-all routes are off: matching
/// them cost every call). Refusals are logged at Debug, so callers cannot flood the log.
/// </summary>
internal sealed partial class EdgeGate(RequestDelegate next, ApiKeyAuthorizer keys, SiloSettings settings, IServiceProvider services,
    ILogger<EdgeGate> logger)
{
    /// <summary>The application's services, as every call of the inference service finds them.</summary>
    private readonly RootServices _rootServices = new(services);

    private int _inFlight;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
            {
                return next(context);
            }

            LogRefused(LogText.Bounded(context.Request.Path), StatusCode.Unimplemented);
            RefuseGrpc(context, StatusCode.Unimplemented, $"This server has no gRPC method '{LogText.Bounded(context.Request.Path)}'.");
            return Task.CompletedTask;
        }

        var grpc = endpoint.Metadata.GetMetadata<GrpcMethodMetadata>();
        if (endpoint.Metadata.GetMetadata<LocalPortMetadata>()?.Port != context.Connection.LocalPort)
        {
            LogWrongPort(LogText.Bounded(context.Request.Path), context.Connection.LocalPort);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (grpc is not null && ApiKeyAuthorizer.ScopeOf(context.Request.Path) is { } scope
            && keys.Check(context.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null, scope) is { } denied)
        {
            LogRefused(LogText.Bounded(context.Request.Path), denied.Status);
            RefuseGrpc(context, denied.Status, denied.Message);
            return Task.CompletedTask;
        }

        if (Interlocked.Increment(ref _inFlight) > settings.Edge.MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _inFlight);
            const string Busy = "The server is serving as many requests as it allows (Cluster:Edge:MaxConcurrentRequests); retry later.";
            LogRefused(LogText.Bounded(context.Request.Path), StatusCode.Unavailable);
            if (grpc is null)
            {
                return Results.Json(new { error = Busy }, statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
            }

            RefuseGrpc(context, StatusCode.Unavailable, Busy);
            return Task.CompletedTask;
        }

        if (grpc?.ServiceType == typeof(GrpcInferenceService))
        {
            // A singleton needing nothing scoped: gRPC would otherwise make (and dispose) a DI scope for every call to find it.
            context.Features.Set<IServiceProvidersFeature>(_rootServices);
        }

        // Counted until the server has finished the response, by a callback on the response (a static lambda with the gate as its
        // state) rather than an async frame around the endpoint, which every request would allocate.
        context.Response.OnCompleted(static gate =>
        {
            Interlocked.Decrement(ref ((EdgeGate)gate)._inFlight);
            return Task.CompletedTask;
        }, this);
        return next(context);
    }

    /// <summary>A trailers-only gRPC answer: the status in the response headers, no body, the request's message never read.</summary>
    private static void RefuseGrpc(HttpContext context, StatusCode status, string message)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)status).ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path} refused with {Status} before its body was read")]
    private partial void LogRefused(string path, StatusCode status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path} is not served on port {Port}")]
    private partial void LogWrongPort(string path, int port);

    /// <summary>The application's services as a request's: no scope of its own. Shared by every call, so nothing may replace them.</summary>
    private sealed class RootServices(IServiceProvider services) : IServiceProvidersFeature
    {
        public IServiceProvider RequestServices
        {
            get => services;
            set => throw new NotSupportedException("The inference service's calls use the application's services; a call's cannot be replaced.");
        }
    }
}
