using System.Threading.Tasks.Sources;

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

/// <summary>
/// One request inside the batcher, and the completion its caller awaits. The scheduler reuses it for a later request once its caller
/// has taken the result (<see cref="IValueTaskSource{TResult}.GetResult"/>), unless a cancellation callback may still reach it.
/// </summary>
public sealed class QueuedRequest<TPayload, TResult> : IValueTaskSource<TResult>
{
    private ManualResetValueTaskSourceCore<TResult> _completion = new() { RunContinuationsAsynchronously = true };

    internal QueuedRequest(DynamicBatchScheduler<TPayload, TResult> owner)
    {
        Owner = owner;
        Node = new(this);
    }

    /// <summary>The caller's data.</summary>
    public TPayload Payload { get; private set; } = default!;

    /// <summary>Its size in the batch dimension.</summary>
    public int BatchSize { get; private set; }

    /// <summary>Element types and non-batch dimensions; only requests with equal keys share a batch.</summary>
    public string ShapeKey { get; private set; } = "";

    /// <summary>Its priority level (0 when the model has no levels).</summary>
    public int Priority { get; private set; }

    /// <summary>When it was queued.</summary>
    public DateTimeOffset EnqueuedAt { get; private set; }

    /// <summary>Where it is in its life.</summary>
    public RequestState State { get; internal set; }

    /// <summary>Whether its queue timeout passed with the DELAY action, which put it behind the others.</summary>
    public bool Delayed { get; internal set; }

    /// <summary>The scheduler that queued it, which a cancellation of the request reaches and which reuses it.</summary>
    internal DynamicBatchScheduler<TPayload, TResult> Owner { get; }

    internal long Sequence { get; set; }

    internal DateTimeOffset? TimeoutAt { get; set; }

    internal DateTimeOffset? Deadline { get; set; }

    /// <summary>Its place in its priority level's list; kept across lives, so queueing allocates nothing.</summary>
    internal LinkedListNode<QueuedRequest<TPayload, TResult>> Node { get; }

    internal CancellationTokenRegistration Cancellation { get; set; }

    /// <summary>Whether no cancellation callback can reach it once released, so that it may serve a later request. Set on release.</summary>
    internal bool Reusable { get; set; }

    /// <summary>What its caller awaits, once.</summary>
    internal ValueTask<TResult> Completion => new(this, _completion.Version);

    /// <summary>Starts a life: a new request, queued.</summary>
    internal void Start(TPayload payload, int batchSize, string shapeKey, int priority, DateTimeOffset enqueuedAt)
    {
        Payload = payload;
        BatchSize = batchSize;
        ShapeKey = shapeKey;
        Priority = priority;
        EnqueuedAt = enqueuedAt;
        State = RequestState.Queued;
        Delayed = false;
        TimeoutAt = null;
        Deadline = null;
        Cancellation = default;
        Reusable = false;
    }

    /// <summary>Ends a life its caller has seen the end of: drops what it held and moves the completion to its next version.</summary>
    internal void Clear()
    {
        Payload = default!;
        ShapeKey = "";
        Cancellation = default;
        _completion.Reset();
    }

    internal void Succeed(TResult result) => _completion.SetResult(result);

    internal void Fail(Exception error) => _completion.SetException(error);

    ValueTaskSourceStatus IValueTaskSource<TResult>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<TResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    TResult IValueTaskSource<TResult>.GetResult(short token)
    {
        if (token != _completion.Version || _completion.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            // Awaited twice, or read before its end: the completion throws, and this life is not over.
            return _completion.GetResult(token);
        }

        try
        {
            return _completion.GetResult(token);
        }
        catch (Exception error)
        {
            Owner.ReportFailure(Payload, error);
            throw;
        }
        finally
        {
            Owner.Recycle(this);
        }
    }
}
