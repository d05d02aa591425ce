namespace Cluster.Inference.Batching;

/// <summary>A request's life in the batcher: queued, then scheduled into a batch, then released with its result.</summary>
public enum RequestState
{
    /// <summary>Waiting in the queue.</summary>
    Queued,

    /// <summary>Part of a batch sent to a device.</summary>
    Scheduled,

    /// <summary>Its result or error has been handed back (or is held for ordering).</summary>
    Released,
}

/// <summary>What a caller asks of the batcher for one request.</summary>
public readonly record struct RequestOptions
{
    /// <summary>Priority level (1 is highest); null for the model's default.</summary>
    public int? Priority { get; init; }

    /// <summary>Queue timeout; null for the model's default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The caller's deadline: past it the request is rejected, whatever the timeout action.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Cancels the request while it is queued.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>One request inside the batcher.</summary>
public sealed class QueuedRequest<TPayload, TResult>
{
    internal QueuedRequest(TPayload payload, int batchSize, string shapeKey, int priority, DateTimeOffset enqueuedAt)
    {
        Payload = payload;
        BatchSize = batchSize;
        ShapeKey = shapeKey;
        Priority = priority;
        EnqueuedAt = enqueuedAt;
    }

    /// <summary>The caller's data.</summary>
    public TPayload Payload { get; }

    /// <summary>Its size in the batch dimension.</summary>
    public int BatchSize { get; }

    /// <summary>Element types and non-batch dimensions; only requests with equal keys share a batch.</summary>
    public string ShapeKey { get; }

    /// <summary>Its priority level (0 when the model has no levels).</summary>
    public int Priority { get; }

    /// <summary>When it was queued.</summary>
    public DateTimeOffset EnqueuedAt { get; }

    /// <summary>Where it is in its life.</summary>
    public RequestState State { get; internal set; }

    /// <summary>Whether its queue timeout passed with the DELAY action, which put it behind the others.</summary>
    public bool Delayed { get; internal set; }

    /// <summary>The scheduler that queued it, which a cancellation of the request reaches.</summary>
    internal DynamicBatchScheduler<TPayload, TResult>? Owner { get; init; }

    internal long Sequence { get; set; }

    internal DateTimeOffset? TimeoutAt { get; set; }

    internal DateTimeOffset? Deadline { get; set; }

    internal LinkedListNode<QueuedRequest<TPayload, TResult>>? Node { get; set; }

    internal TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal CancellationTokenRegistration Cancellation { get; set; }
}
