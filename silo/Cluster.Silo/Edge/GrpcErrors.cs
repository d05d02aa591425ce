using Cluster.Contracts.Logging;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>Turns cluster errors thrown by the gRPC edge's handlers into their gRPC statuses with the error's message.</summary>
public sealed partial class GrpcErrors(ILogger<GrpcErrors> logger)
{
    /// <summary>The RpcException that answers <paramref name="error"/>, logged: rejections at Debug (callers choose how many there are) with their message cut
    /// to <see cref="LogText.MaxLength"/>, faults of the server at Error.</summary>
    public RpcException Translate(string method, Exception error)
    {
        if (EdgeErrors.StatusOf(error) is { } status)
        {
            var message = EdgeErrors.MessageOf(error);
            LogRejected(method, status, LogText.Bounded(message));
            return new RpcException(new Status(status, message), EdgeErrors.TrailersOf(error));
        }

        LogFault(error, method);
        return new RpcException(new Status(StatusCode.Internal, $"The server failed: {EdgeErrors.MessageOf(error)}"));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} rejected with {Status}: {Reason}")]
    private partial void LogRejected(string method, StatusCode status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} failed")]
    private partial void LogFault(Exception error, string method);
}
