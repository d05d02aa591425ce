using Grpc.AspNetCore.Server;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>
/// Ends the edge's open streams the moment the host starts stopping (SIGTERM), before Kestrel waits for its
/// requests and so before Orleans drains the silo's replicas. The host gives all of its services one stop budget
/// (<see cref="Hosting.ClusterHost.ShutdownTimeout"/>); Kestrel stops first and waits for every request in flight, so
/// one client holding a stream open would otherwise spend the whole budget and leave the drain none. Streaming gRPC
/// methods (<c>ModelStreamInfer</c>) and the routes marked with <see cref="Marker"/> (generation over REST and the
/// OpenAI routes, which stream server-sent events) see their request cancelled: the client gets its stream's end
/// (or CANCELLED) and sends again to another silo. Unary calls are not cancelled: they finish, and the drain waits
/// for the batches they are in.
/// </summary>
public static class StreamsEndOnStop
{
    /// <summary>Endpoint metadata marking a route whose response may stream for as long as the client reads.</summary>
    public static readonly object Marker = new StreamingRoute();

    /// <summary>Adds the middleware; the routes it covers are matched before it runs.</summary>
    public static void UseStreamsEndOnStop(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var stopping = app.Lifetime.ApplicationStopping;
        // Unary calls pass straight through: no state machine of this middleware's own per request.
        app.Use((http, next) => Streams(http.GetEndpoint()) ? EndOnStopAsync(http, next, stopping) : next(http));
    }

    private static async Task EndOnStopAsync(HttpContext http, RequestDelegate next, CancellationToken stopping)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        http.RequestAborted = ended.Token;
        await next(http);
    }

    private static bool Streams(Endpoint? endpoint) =>
        endpoint?.Metadata.GetMetadata<StreamingRoute>() is not null
        || endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>() is { Method.Type: not MethodType.Unary };

    private sealed class StreamingRoute;
}
