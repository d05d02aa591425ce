namespace Cluster.Inference.Batching;

/// <summary>
/// Hands requests their results; with preserve_ordering, holds each until every request that arrived
/// before it has been released. Called under the scheduler's lock.
/// </summary>
internal sealed class OrderedRelease<TPayload, TResult>(bool preserveOrdering)
{
    private readonly SortedDictionary<long, Action> _held = [];
    private long _next;

    public void Succeed(QueuedRequest<TPayload, TResult> request, TResult result)
    {
        request.State = RequestState.Released;
        if (preserveOrdering)
        {
            Hold(request, () => request.Completion.TrySetResult(result));
        }
        else
        {
            // No closure for the common case: a request is released as its batch ends.
            request.Completion.TrySetResult(result);
        }
    }

    public void Fail(QueuedRequest<TPayload, TResult> request, Exception error)
    {
        request.State = RequestState.Released;
        if (preserveOrdering)
        {
            Hold(request, () => request.Completion.TrySetException(error));
        }
        else
        {
            request.Completion.TrySetException(error);
        }
    }

    /// <summary>Keeps <paramref name="complete"/> until every request before <paramref name="request"/> is released, then releases what it can.</summary>
    private void Hold(QueuedRequest<TPayload, TResult> request, Action complete)
    {
        _held[request.Sequence] = complete;
        while (_held.Remove(_next, out var release))
        {
            release();
            _next++;
        }
    }
}
