namespace Cluster.Inference.Batching;

/// <summary>
/// The queued requests of one replica: one FIFO list per priority level (1 first), then the requests
/// whose timeout passed with the DELAY action. Decides which batch, if any, is due now.
/// Not thread-safe: the scheduler holds its lock around every call.
/// </summary>
internal sealed class BatchQueue<TPayload, TResult>(BatchingPolicy policy)
{
    private readonly LinkedList<QueuedRequest<TPayload, TResult>>[] _levels =
        [.. Enumerable.Range(0, Math.Max(1, policy.PriorityLevels) + 1).Select(_ => new LinkedList<QueuedRequest<TPayload, TResult>>())];

    /// <summary>The last request of a due batch that was shared among idle slots: the rest of it is due too.</summary>
    private long _dueThroughSequence = -1;

    /// <summary>Queued requests, delayed ones included.</summary>
    public int Count { get; private set; }

    private LinkedList<QueuedRequest<TPayload, TResult>> Delayed => _levels[^1];

    public void Add(QueuedRequest<TPayload, TResult> request)
    {
        _levels[Math.Max(0, request.Priority - 1)].AddLast(request.Node);
        Count++;
    }

    public void Remove(QueuedRequest<TPayload, TResult> request)
    {
        request.Node.List!.Remove(request.Node);
        Count--;
    }

    /// <summary>Moves a request whose timeout passed behind every request that has not timed out.</summary>
    public void Delay(QueuedRequest<TPayload, TResult> request)
    {
        Remove(request);
        request.Delayed = true;
        Delayed.AddLast(request.Node);
        Count++;
    }

    /// <summary>Every queued request in dispatch order.</summary>
    public IEnumerable<QueuedRequest<TPayload, TResult>> InOrder()
    {
        foreach (var level in _levels)
        {
            for (var node = level.First; node is not null; node = node.Next)
            {
                yield return node.Value;
            }
        }
    }

    /// <summary>
    /// The batch to send now, if one is due: the first request in order plus later ones of the same
    /// shape that fit in max_batch_size. It is due when it is full, when a prefix of it is a preferred
    /// size (that prefix is sent), when there is no queue delay, or when its oldest request has waited
    /// the delay. Otherwise <paramref name="dueAt"/> says when it will be. With more than one of
    /// <paramref name="idleSlots"/>, a due batch not cut to a preferred size is shared among them: this call
    /// takes its first share, and the rest is due at once for the next idle slot, so every instance computes
    /// rather than one running the whole queue while the others wait.
    /// </summary>
    public List<QueuedRequest<TPayload, TResult>>? TakeDueBatch(DateTimeOffset now, int idleSlots, out DateTimeOffset? dueAt)
    {
        dueAt = null;
        var limit = Math.Max(1, policy.MaxBatchSize);
        var candidates = new List<QueuedRequest<TPayload, TResult>>(Math.Min(Count, limit));
        QueuedRequest<TPayload, TResult>? head = null;
        var total = 0;
        var full = false;
        var preferredCount = 0;
        var oldest = DateTimeOffset.MaxValue;
        foreach (var request in InOrder())
        {
            head ??= request;
            if (request.ShapeKey != head.ShapeKey)
            {
                continue;
            }

            if (total + request.BatchSize > limit || (candidates.Count > 0 && policy.MaxBatchSize <= 1))
            {
                full = true;
                break;
            }

            candidates.Add(request);
            total += request.BatchSize;
            oldest = request.EnqueuedAt < oldest ? request.EnqueuedAt : oldest;
            if (Array.BinarySearch(policy.PreferredBatchSizes, total) >= 0)
            {
                preferredCount = candidates.Count;
            }

            full |= total == limit;
        }

        if (head is null)
        {
            return null;
        }

        if (candidates.Count == 0)
        {
            // A request larger than max_batch_size on its own (validation normally stops these) runs alone.
            candidates.Add(head);
        }

        if (!full && preferredCount > 0)
        {
            candidates.RemoveRange(preferredCount, candidates.Count - preferredCount);
        }
        else if (!full && policy.MaxQueueDelay > TimeSpan.Zero && now - oldest < policy.MaxQueueDelay && head.Sequence > _dueThroughSequence)
        {
            dueAt = oldest + policy.MaxQueueDelay;
            return null;
        }
        else if (idleSlots > 1)
        {
            _dueThroughSequence = candidates[^1].Sequence;
            KeepShare(candidates, total, idleSlots);
        }

        foreach (var request in candidates)
        {
            Remove(request);
        }

        return candidates;
    }

    /// <summary>Cuts <paramref name="candidates"/> (<paramref name="total"/> items) to the first requests holding at least an even share of them.</summary>
    private static void KeepShare(List<QueuedRequest<TPayload, TResult>> candidates, int total, int idleSlots)
    {
        var share = (total + idleSlots - 1) / idleSlots;
        var kept = 0;
        var count = 0;
        do
        {
            kept += candidates[count++].BatchSize;
        }
        while (kept < share);

        candidates.RemoveRange(count, candidates.Count - count);
    }
}
