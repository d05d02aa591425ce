using Cluster.Client;
using Cluster.Contracts.Errors;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>The protocol's error mapping: each cluster error to its gRPC status and REST code.</summary>
public static class EdgeErrors
{
    /// <summary>The gRPC status for an exception; null for faults of the server itself.</summary>
    public static StatusCode? StatusOf(Exception error) => error switch
    {
        ModelNotFoundException or RequestNotFoundException => StatusCode.NotFound,
        InvalidInputException => StatusCode.InvalidArgument,
        QueueFullException => StatusCode.ResourceExhausted,
        InferenceTimeoutException => StatusCode.DeadlineExceeded,
        ModelUnavailableException or DeviceNotFoundException or DeviceFaultException or ClusterStateException or ReplicaNotStartedException =>
            StatusCode.Unavailable,
        ReplicaLostException or GenerationHandedOverException => StatusCode.Aborted,
        OperationRefusedException => StatusCode.FailedPrecondition,
        TimeoutException => StatusCode.DeadlineExceeded,
        SiloUnavailableException or OrleansMessageRejectionException => StatusCode.Unavailable,
        OperationCanceledException => StatusCode.Cancelled,
        ModelExecutionException => StatusCode.Internal,
        _ => null,
    };

    /// <summary>Longest error message sent back; messages echo the caller's names, which may be huge.</summary>
    public const int MaxMessageChars = 2048;

    /// <summary>What a caller is told when a call inside the cluster got no answer in time.</summary>
    public const string NoAnswerInTime = "The cluster did not answer in time.";

    /// <summary>What a caller is told when a call inside the cluster could not be delivered.</summary>
    public const string NotDelivered = "The cluster could not reach a replica; retry the request.";

    /// <summary>
    /// The error's message, cut to <see cref="MaxMessageChars"/>: gRPC carries it in a header, and clients
    /// refuse response headers over 64 KiB, which would turn a rejection into a client-side INTERNAL.
    /// Orleans' own timeouts and delivery failures name silo addresses and grain ids; callers get a generic message instead.
    /// </summary>
    public static string MessageOf(Exception error) => error switch
    {
        TimeoutException => NoAnswerInTime,
        SiloUnavailableException or OrleansMessageRejectionException => NotDelivered,
        _ when error.Message.Length <= MaxMessageChars => error.Message,
        _ => string.Concat(error.Message.AsSpan(0, MaxMessageChars), "… (cut)"),
    };

    /// <summary>Trailers for a rejection: the retry delay when the queue was full; what was not found when it was a request id.</summary>
    public static Metadata TrailersOf(Exception error) => error switch
    {
        QueueFullException { RetryAfter: var delay } when delay > TimeSpan.Zero => new Metadata { { RetryHint.GrpcTrailer, RetryHint.Milliseconds(delay) } },
        RequestNotFoundException => new Metadata { { NotFoundTrailer.Name, NotFoundTrailer.Request } },
        _ => Metadata.Empty,
    };

    /// <summary>The REST status code for a gRPC status.</summary>
    public static int HttpStatusOf(StatusCode status) => status switch
    {
        StatusCode.NotFound => 404,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition => 400,
        StatusCode.ResourceExhausted => 429,
        StatusCode.DeadlineExceeded => 504,
        StatusCode.Unavailable => 503,
        StatusCode.Aborted => 502,
        StatusCode.Cancelled => 499,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        _ => 500,
    };
}
