using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Batching;

/// <summary>
/// Triton's dynamic batcher for one model replica, free of Orleans: queues requests by priority,
/// forms batches of equal-shaped requests up to max_batch_size, dispatches them while fewer than
/// <see cref="BatchingPolicy.Slots"/> batches run, and hands each request its own result. With an idle
/// slot and no queue delay a request is sent at once; while every slot is busy requests accumulate
/// into the next batch. Timeouts, deadlines and cancellation take a request out of the queue before
/// it costs a batch slot. Thread-safe; time comes from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class DynamicBatchScheduler<TPayload, TResult> : IDisposable
{
    /// <summary>Timers cannot wait longer; a later event is simply re-checked when this passes.</summary>
    private static readonly TimeSpan LongestTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>The retry hint before any batch has finished, and its bounds.</summary>
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MinRetryAfter = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>The most answered requests kept for reuse: more than a replica's callers usually keep in flight.</summary>
    private const int MaxSpareRequests = 1024;

    private readonly object _gate = new();
    private readonly Stack<QueuedRequest<TPayload, TResult>> _spare = new();
    private readonly BatchingPolicy _policy;
    private readonly Func<IReadOnlyList<QueuedRequest<TPayload, TResult>>, Task<TResult[]>> _execute;
    private readonly TimeProvider _time;
    private readonly BatchQueue<TPayload, TResult> _queue;
    private readonly OrderedRelease<TPayload, TResult> _release;
    private readonly ITimer _timer;
    private readonly bool _formNextBatchInline;
    private readonly Action<TPayload, Exception>? _failed;
    /// <summary>Whether the timer may still fire: once disarmed, a request finding nothing to wait for does not touch it again. Under the lock.</summary>
    private bool _timerArmed;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset? _earliestExpiry;
    private long _nextSequence;
    private int _running;
    private bool _stopped;
    private bool _accepting = true;
    private TimeSpan _meanBatchTime;

    /// <summary>
    /// Creates the scheduler; <paramref name="execute"/> runs one batch and returns one result per request, in order. The batch after
    /// one that ended is formed on the thread pool, unless <paramref name="formNextBatchInline"/> (then at once, on the thread that
    /// ended it: deterministic, for tests of the scheduling rules). <paramref name="failed"/>, when given, hears of each queued request
    /// that ends in an error (timed out, cancelled, refused once stopped, its batch failed), with its payload, on the caller's thread as
    /// the caller takes the error: a caller need not keep a frame of its own around the await to account for it.
    /// </summary>
    public DynamicBatchScheduler(
        BatchingPolicy policy,
        Func<IReadOnlyList<QueuedRequest<TPayload, TResult>>, Task<TResult[]>> execute,
        TimeProvider time,
        bool formNextBatchInline = false,
        Action<TPayload, Exception>? failed = null)
    {
        _formNextBatchInline = formNextBatchInline;
        _failed = failed;
        _policy = policy;
        _execute = execute;
        _time = time;
        _queue = new BatchQueue<TPayload, TResult>(policy);
        _release = new OrderedRelease<TPayload, TResult>(policy.PreserveOrdering);
        _timer = time.CreateTimer(_ => Pump(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Requests waiting in the queue.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Batches sent and not yet finished.</summary>
    public int RunningBatches
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>
    /// Completes once the scheduler no longer accepts requests (<see cref="StopAccepting"/> or <see cref="Stop"/>), no request
    /// waits in its queue and no batch runs: every dispatched batch's execute delegate has returned. A batch counts as running
    /// from the moment it leaves the queue, under the same lock, so the signal never fires between the two.
    /// </summary>
    public Task Drained => _drained.Task;

    /// <summary>
    /// Queues a request of <paramref name="batchSize"/> items whose shape is summarised by
    /// <paramref name="shapeKey"/>; completes with its result. Throws QueueFullException when the queue is
    /// full and InvalidInputException for a priority outside the model's levels. Await the result once: the request's
    /// place in the batcher serves a later request once its result has been taken.
    /// </summary>
    public ValueTask<TResult> EnqueueAsync(TPayload payload, int batchSize, string shapeKey, RequestOptions options = default)
    {
        var priority = ResolvePriority(options.Priority);
        QueuedRequest<TPayload, TResult> request;
        lock (_gate)
        {
            if (_stopped || !_accepting)
            {
                throw new ReplicaNotStartedException("The model replica is stopping and did not start the request; retry it on another replica.");
            }

            if (_policy.MaxQueueSize > 0 && _queue.Count >= _policy.MaxQueueSize)
            {
                var retryAfter = RetryAfter();
                throw new QueueFullException($"The queue is full ({_policy.MaxQueueSize} requests, max_queue_size); retry " +
                    $"after {retryAfter.TotalMilliseconds:0} ms.", retryAfter);
            }

            var now = _time.GetUtcNow();
            var timeout = _policy.AllowTimeoutOverride && options.Timeout is { } own && own > TimeSpan.Zero ? own : _policy.DefaultTimeout;
            request = Rent();
            request.Start(payload, batchSize, shapeKey, priority, now);
            // A timeout beyond the calendar means none.
            request.TimeoutAt = timeout is { } t && t < DateTimeOffset.MaxValue - now ? now + t : null;
            request.Deadline = options.Deadline;
            request.Sequence = _nextSequence++;
            _earliestExpiry = Earliest(_earliestExpiry, Earliest(request.TimeoutAt, request.Deadline));
            _queue.Add(request);
        }

        if (options.CancellationToken.CanBeCanceled)
        {
            // A static callback with the request as its state (which knows its scheduler): a lambda capturing the request would cost a
            // closure on every call, token or not, and a tuple as state a box.
            var registration = options.CancellationToken.Register(
                static (state, token) =>
                {
                    var queued = (QueuedRequest<TPayload, TResult>)state!;
                    queued.Owner.Cancel(queued, token);
                },
                request);
            request.Cancellation = registration;
            if (request.State != RequestState.Queued)
            {
                // Scheduled (or released) before the registration was stored: nobody else will dispose it. Its caller has not yet
                // been given the result, so the request is still this one.
                registration.Dispose();
            }
        }

        var completion = request.Completion;
        Pump();
        return completion;
    }

    /// <summary>A request whose last caller took its result, or a new one. Under the lock.</summary>
    private QueuedRequest<TPayload, TResult> Rent()
    {
        lock (_spare)
        {
            if (_spare.TryPop(out var spare))
            {
                return spare;
            }
        }

        return new QueuedRequest<TPayload, TResult>(this);
    }

    /// <summary>Keeps a request whose caller has taken its result for a later one, unless a cancellation callback may still reach it.</summary>
    internal void Recycle(QueuedRequest<TPayload, TResult> request)
    {
        if (!request.Reusable)
        {
            return;
        }

        request.Clear();
        lock (_spare)
        {
            if (_spare.Count < MaxSpareRequests)
            {
                _spare.Push(request);
            }
        }
    }

    /// <summary>Tells the failure observer of a request whose caller took its error; before the request is recycled.</summary>
    internal void ReportFailure(TPayload payload, Exception error) => _failed?.Invoke(payload, error);

    /// <summary>Refuses new requests with ReplicaNotStartedException; queued ones still run.</summary>
    public void StopAccepting()
    {
        lock (_gate)
        {
            _accepting = false;
            SignalIfDrained();
        }
    }

    /// <summary>Fails every queued request (the replica is going away); running batches finish.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            foreach (var request in _queue.InOrder().ToList())
            {
                _queue.Remove(request);
                _release.Fail(request, new ReplicaNotStartedException("The model replica stopped before the request ran; retry it on another replica."));
            }

            SignalIfDrained();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop();
        _timer.Dispose();
    }

    private int ResolvePriority(int? requested)
    {
        if (_policy.PriorityLevels == 0 || requested is null or 0)
        {
            return _policy.DefaultPriorityLevel;
        }

        return requested.Value >= 1 && requested.Value <= _policy.PriorityLevels
            ? requested.Value
            : throw new InvalidInputException($"Priority {requested} is outside the model's priority levels 1..{_policy.PriorityLevels}.");
    }

    private void Cancel(QueuedRequest<TPayload, TResult> request, CancellationToken token)
    {
        lock (_gate)
        {
            if (request.State != RequestState.Queued)
            {
                return;
            }

            _queue.Remove(request);
            _release.Fail(request, new OperationCanceledException("The request was cancelled while queued.", token));
        }

        Pump();
    }

    /// <summary>Applies timeouts, dispatches every batch that is due while slots are free, and arms the timer for the next event.</summary>
    private void Pump()
    {
        List<List<QueuedRequest<TPayload, TResult>>>? due = null;
        lock (_gate)
        {
            if (_stopped)
            {
                // Nothing is queued any more, and the timer may be disposed.
                SignalIfDrained();
                return;
            }

            var now = _time.GetUtcNow();
            var next = ExpireTimeouts(now);
            while (_running < _policy.Slots)
            {
                var batch = _queue.TakeDueBatch(now, _policy.Slots - _running, out var dueAt);
                if (batch is null)
                {
                    next = Earliest(next, dueAt);
                    break;
                }

                foreach (var request in batch)
                {
                    request.State = RequestState.Scheduled;
                }

                _running++;
                (due ??= []).Add(batch);
            }

            if (next is { } at)
            {
                _timer.Change(Min(Max(at - now, TimeSpan.Zero), LongestTimerDelay), Timeout.InfiniteTimeSpan);
                _timerArmed = true;
            }
            else if (_timerArmed)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timerArmed = false;
            }

            SignalIfDrained();
        }

        if (due is null)
        {
            // Most calls dispatch nothing: `due ?? []` would allocate an empty list for them.
            return;
        }

        foreach (var batch in due)
        {
            _ = RunAsync(batch);
        }
    }

    /// <summary>Completes <see cref="Drained"/> when nothing is left to run and nothing more is accepted. Under the lock.</summary>
    private void SignalIfDrained()
    {
        if ((_stopped || !_accepting) && _queue.Count == 0 && _running == 0)
        {
            _drained.TrySetResult();
        }
    }

    private DateTimeOffset? ExpireTimeouts(DateTimeOffset now)
    {
        if (_earliestExpiry is null || _earliestExpiry > now)
        {
            return _earliestExpiry;
        }

        DateTimeOffset? next = null;
        foreach (var request in _queue.InOrder().ToList())
        {
            if (request.Deadline <= now)
            {
                _queue.Remove(request);
                _release.Fail(request,
                    new InferenceTimeoutException(
                        $"The request's deadline passed after {(now - request.EnqueuedAt).TotalMilliseconds:0.###} ms in the queue."));
            }
            else if (!request.Delayed && request.TimeoutAt <= now)
            {
                if (_policy.TimeoutAction == TimeoutAction.Delay)
                {
                    _queue.Delay(request);
                    next = Earliest(next, request.Deadline);
                    continue;
                }

                _queue.Remove(request);
                _release.Fail(request,
                    new InferenceTimeoutException($"The request timed out after {(now - request.EnqueuedAt).TotalMilliseconds:0.###} ms in the queue."));
            }
            else
            {
                next = Earliest(Earliest(next, request.Deadline), request.Delayed ? null : request.TimeoutAt);
            }
        }

        _earliestExpiry = next;
        return next;
    }

    /// <summary>About how long the queue takes to drain: its batches, run a slot-count at a time, at the mean batch time. Under the lock.</summary>
    private TimeSpan RetryAfter()
    {
        if (_meanBatchTime == TimeSpan.Zero)
        {
            return DefaultRetryAfter;
        }

        var batches = Math.Ceiling(_queue.Count / (double)(Math.Max(1, _policy.MaxBatchSize) * _policy.Slots));
        var drain = _meanBatchTime * Math.Max(1, batches);
        return drain < MinRetryAfter ? MinRetryAfter : drain > MaxRetryAfter ? MaxRetryAfter : drain;
    }

    private async Task RunAsync(List<QueuedRequest<TPayload, TResult>> batch)
    {
        var started = _time.GetTimestamp();
        TResult[]? results = null;
        Exception? error = null;
        try
        {
            results = await _execute(batch).ConfigureAwait(false);
            if (results.Length != batch.Count)
            {
                error = new InvalidOperationException($"A batch of {batch.Count} requests returned {results.Length} results.");
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        foreach (var request in batch)
        {
            // Outside the lock: disposing waits for a cancellation callback that may be waiting for the lock. Disposed, it can no longer
            // reach the request, which its release may then reuse.
            request.Cancellation.Dispose();
            request.Cancellation = default;
        }

        var elapsed = _time.GetElapsedTime(started);
        bool waiting;
        lock (_gate)
        {
            _running--;
            _meanBatchTime = _meanBatchTime == TimeSpan.Zero ? elapsed : ((_meanBatchTime * 7) + elapsed) / 8;
            for (var i = 0; i < batch.Count; i++)
            {
                if (error is null)
                {
                    _release.Succeed(batch[i], results![i]);
                }
                else
                {
                    _release.Fail(batch[i], error);
                }
            }

            // With nothing queued there is no batch to form nor timeout to watch (a request queued later pumps itself): no thread is woken.
            waiting = _queue.Count > 0 && !_stopped;
            SignalIfDrained();
        }

        if (!waiting)
        {
            return;
        }

        // The next batch is formed on the thread pool, not here: a batch ends on its device's thread, where the requests answered
        // above have not yet sent their next ones. Formed a thread hand-off later, it carries them (at 64 callers on the wide MLP,
        // 23 requests rather than 18), and the device thread goes back to the device.
        if (_formNextBatchInline)
        {
            Pump();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static scheduler => scheduler.Pump(), this, preferLocal: false);
        }
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
