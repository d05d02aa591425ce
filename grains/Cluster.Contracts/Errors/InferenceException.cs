namespace Cluster.Contracts.Errors;

/// <summary>Base of the errors the cluster reports to callers; the message names what is at fault.</summary>
[GenerateSerializer]
public class InferenceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InferenceException(string message)
        : base(message)
    {
    }

    /// <summary>
    /// Whether the request certainly never ran, so sending it again (here or to another replica) cannot
    /// run it twice: true for a full queue and for a model or device that could not take it.
    /// </summary>
    public virtual bool SafeToRetry => false;
}

/// <summary>The model, or the requested version of it, is not in the repository.</summary>
[GenerateSerializer]
public sealed class ModelNotFoundException(string message) : InferenceException(message);

/// <summary>An input is missing, unknown, or of the wrong type or shape; the message names it with expected and given.</summary>
[GenerateSerializer]
public sealed class InvalidInputException(string message) : InferenceException(message);

/// <summary>The model version exists but cannot be served (failed to load, or no device can host it).</summary>
[GenerateSerializer]
public sealed class ModelUnavailableException(string message) : InferenceException(message)
{
    /// <inheritdoc />
    public override bool SafeToRetry => true;
}

/// <summary>A grain was addressed to a silo or device that is not in the cluster.</summary>
[GenerateSerializer]
public sealed class DeviceNotFoundException(string message) : InferenceException(message)
{
    /// <inheritdoc />
    public override bool SafeToRetry => true;
}

/// <summary>
/// A device failed or did not finish a batch in time and was taken out of service; the batch produced no
/// output. The replica retries such a batch once on another device of its silo before reporting this.
/// </summary>
[GenerateSerializer]
public sealed class DeviceFaultException(string message) : InferenceException(message)
{
    /// <inheritdoc />
    public override bool SafeToRetry => true;
}

/// <summary>The model's queue is full; retry after <see cref="RetryAfter"/>, or elsewhere.</summary>
[GenerateSerializer]
public sealed class QueueFullException(string message, TimeSpan retryAfter) : InferenceException(message)
{
    /// <summary>About how long the queue takes to drain (zero when unknown): a sensible delay before retrying.</summary>
    [Id(0)]
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <inheritdoc />
    public override bool SafeToRetry => true;
}

/// <summary>The request's timeout or deadline passed before it ran.</summary>
[GenerateSerializer]
public sealed class InferenceTimeoutException(string message) : InferenceException(message)
{
    /// <inheritdoc />
    /// <remarks>It never ran; a retry is only worth it when the caller still has time.</remarks>
    public override bool SafeToRetry => true;
}

/// <summary>The model failed while running a batch (the runtime's message says why); not the caller's fault.</summary>
[GenerateSerializer]
public sealed class ModelExecutionException(string message) : InferenceException(message);

/// <summary>An operator's request the cluster refuses (unknown silo, a split not summing to 100, ...); nothing changed.</summary>
[GenerateSerializer]
public sealed class OperationRefusedException(string message) : InferenceException(message);

/// <summary>Feedback named a request id no arm of the model's experiment answered (or whose feedback was counted already); nothing was counted.</summary>
[GenerateSerializer]
public sealed class RequestNotFoundException(string message) : InferenceException(message);

/// <summary>An operator's decision could not be saved to the cluster's state storage; nothing changed.</summary>
[GenerateSerializer]
public sealed class ClusterStateException(string message) : InferenceException(message);

/// <summary>
/// The replica did not start the request: it is retiring (draining, scaling down, its silo stopping) or
/// stopped before the request ran. Nothing ran, so the caller may send it to another replica.
/// </summary>
[GenerateSerializer]
public sealed class ReplicaNotStartedException(string message) : InferenceException(message)
{
    /// <inheritdoc />
    public override bool SafeToRetry => true;
}

/// <summary>
/// The silo of the replica running the request was declared dead while the request was in flight: no answer
/// will come, and the request may have run, so it is not sent again (inference has no side effects, so the
/// caller may choose to, accepting that it may run twice).
/// </summary>
[GenerateSerializer]
public sealed class ReplicaLostException(string message) : InferenceException(message);

/// <summary>
/// The replica stopped streaming a generation before its end because it is retiring (its silo draining, or the
/// replica scaled down): the tokens streamed so far stand, and the rest can be generated on another replica by
/// resending the request with those tokens as <c>ResumeTokens</c>. The SDK does so itself; only direct callers of
/// a replica see this error.
/// </summary>
[GenerateSerializer]
public sealed class GenerationHandedOverException(string message) : InferenceException(message);
