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
        Release(request, () => request.Completion.TrySetResult(result));

    public void Fail(QueuedRequest<TPayload, TResult> request, Exception error) =>
        Release(request, () => request.Completion.TrySetException(error));

    private void Release(QueuedRequest<TPayload, TResult> request, Action complete)
    {
        request.State = RequestState.Released;
        if (!preserveOrdering)
        {
            complete();
            return;
        }

        _held[request.Sequence] = complete;
        while (_held.Remove(_next, out var release))
        {
            release();
            _next++;
        }
    }
}
