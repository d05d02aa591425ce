namespace Cluster.Inference.Batching;

/// <summary>
/// Hands requests their results; with preserve_ordering, holds each until every request that arrived
/// before it has been released. Called under the scheduler's lock.
/// </summary>
internal sealed class OrderedRelease<TPayload, TResult>(bool preserveOrdering)
{
    private readonly SortedDictionary<long, Action> _held = [];
    private long _next;

    public void Succeed(QueuedRequest<TPayload, TResult> request, TResult result) =>
        Release(request, result, static (request, result) => request.Succeed(result));

    public void Fail(QueuedRequest<TPayload, TResult> request, Exception error) =>
        Release(request, error, static (request, error) => request.Fail(error));

    /// <summary>
    /// Completes <paramref name="request"/> with <paramref name="outcome"/> at once, or, with preserve_ordering, once every request before
    /// it is released. The static completion takes the outcome as an argument, so the common case makes no closure.
    /// </summary>
    private void Release<TOutcome>(QueuedRequest<TPayload, TResult> request, TOutcome outcome,
        Action<QueuedRequest<TPayload, TResult>, TOutcome> complete)
    {
        request.State = RequestState.Released;
        // A registration still live here (a timeout, a stop, its own cancellation) may yet call back: unless it is taken off now,
        // the request is not reused, so the callback never reaches a later request. A batch's requests had theirs disposed.
        request.Reusable = !request.Cancellation.Token.CanBeCanceled || request.Cancellation.Unregister();
        if (!preserveOrdering)
        {
            complete(request, outcome);
            return;
        }

        Hold(request, outcome, complete);
    }

    /// <summary>
    /// Holds the release until its turn and releases every one whose turn has come. A method of its own: the closure's captures are
    /// parameters, and C# makes a closure at the entry of the method that holds them, taken or not.
    /// </summary>
    private void Hold<TOutcome>(QueuedRequest<TPayload, TResult> request, TOutcome outcome, Action<QueuedRequest<TPayload, TResult>, TOutcome> complete)
    {
        _held[request.Sequence] = () => complete(request, outcome);
        while (_held.Remove(_next, out var release))
        {
            release();
            _next++;
        }
    }
}
