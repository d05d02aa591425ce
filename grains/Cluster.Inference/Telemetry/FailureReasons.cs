using Cluster.Contracts.Errors;

namespace Cluster.Inference.Telemetry;

/// <summary>The one place a failed request's exception is classified for statistics, metrics and logs.</summary>
public static class FailureReasons
{
    /// <summary>The <see cref="FailureReason"/> that <paramref name="error"/> counts as.</summary>
    public static FailureReason Of(Exception error) => error switch
    {
        QueueFullException or InferenceTimeoutException or ReplicaNotStartedException => FailureReason.Rejected,
        OperationCanceledException => FailureReason.Canceled,
        ModelExecutionException or ModelUnavailableException or DeviceNotFoundException or DeviceFaultException => FailureReason.Backend,
        _ => FailureReason.Other,
    };
}
