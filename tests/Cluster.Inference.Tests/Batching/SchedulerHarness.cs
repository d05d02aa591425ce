using Cluster.Inference.Batching;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Inference.Tests.Batching;

/// <summary>
/// A scheduler over int payloads whose batches the test finishes by hand, on a fake clock. Unless <c>formNextBatchInline</c> is off
/// (the production setting), the batch after one that ends is formed before <see cref="Finish"/> returns.
/// </summary>
internal sealed class SchedulerHarness : IDisposable
{
    public SchedulerHarness(BatchingPolicy policy, bool formNextBatchInline = true)
    {
        Scheduler = new DynamicBatchScheduler<int, int>(policy, Execute, Time, formNextBatchInline);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public DynamicBatchScheduler<int, int> Scheduler { get; }

    /// <summary>Every batch dispatched so far, as its payloads then and its request objects, with the means to finish it.</summary>
    public List<(int[] Payloads, QueuedRequest<int, int>[] Requests, TaskCompletionSource<int[]> Done)> Batches { get; } = [];

    public Task<int> Enqueue(int payload, int batchSize = 1, string shape = "[4]", RequestOptions options = default) =>
        Scheduler.EnqueueAsync(payload, batchSize, shape, options).AsTask();

    /// <summary>Finishes batch <paramref name="index"/>: each request's result is its payload × 10.</summary>
    public void Finish(int index) => Inline(() => Batches[index].Done.SetResult(Array.ConvertAll(Batches[index].Payloads, p => p * 10)));

    /// <summary>Fails batch <paramref name="index"/> with <paramref name="error"/>.</summary>
    public void Fail(int index, Exception error) => Inline(() => Batches[index].Done.SetException(error));

    public int[][] Dispatched()
    {
        lock (Batches)
        {
            return [.. Batches.Select(b => b.Payloads)];
        }
    }

    public void Dispose() => Scheduler.Dispose();

    /// <summary>
    /// Completes a batch with no synchronization context, so the scheduler's continuation (and the next
    /// dispatch) runs before this returns and the test can assert on it at once.
    /// </summary>
    private static void Inline(Action complete)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            complete();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private Task<int[]> Execute(IReadOnlyList<QueuedRequest<int, int>> batch)
    {
        var done = new TaskCompletionSource<int[]>();
        lock (Batches)
        {
            Batches.Add(([.. batch.Select(r => r.Payload)], [.. batch], done));
        }

        return done.Task;
    }
}
