using Cluster.Contracts.Errors;
using Cluster.Inference.Batching;

namespace Cluster.Inference.Tests.Batching;

/// <summary>A request's place in the batcher serves a later request once its caller has taken the result, and only then.</summary>
public sealed class RequestReuseTests
{
    private static readonly TimeSpan Microsecond = TimeSpan.FromMicroseconds(1);

    [Fact]
    public async Task AnsweredRequest_ServesTheNextOne_WithThatOnesPayloadAndResult()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        var first = h.Enqueue(1);
        h.Finish(0);
        Assert.Equal(10, await first);

        var second = h.Enqueue(2);
        Assert.Equal([[1], [2]], h.Dispatched());
        Assert.Same(h.Batches[0].Requests[0], h.Batches[1].Requests[0]);
        Assert.Equal(2, h.Batches[1].Requests[0].Payload);
        h.Finish(1);
        Assert.Equal(20, await second);
    }

    [Fact]
    public async Task RequestNotYetAwaited_IsNotReused()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        var first = h.Scheduler.EnqueueAsync(1, 1, "[4]");
        h.Finish(0);

        // Answered, but its caller has not taken the result: the next request gets a place of its own.
        var second = h.Enqueue(2);
        Assert.NotSame(h.Batches[0].Requests[0], h.Batches[1].Requests[0]);
        Assert.Equal(1, h.Batches[0].Requests[0].Payload);
        h.Finish(1);
        Assert.Equal(20, await second);
        Assert.Equal(10, await first);
    }

    [Fact]
    public async Task TimedOutRequest_ItsTokenCancelledLater_LeavesTheRequestThatReusedItsPlace()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, DefaultTimeout = 100 * Microsecond });
        var running = h.Enqueue(0);
        using var cancel = new CancellationTokenSource();
        var timedOut = h.Enqueue(1, options: new RequestOptions { CancellationToken = cancel.Token });
        h.Time.Advance(100 * Microsecond);
        await Assert.ThrowsAsync<InferenceTimeoutException>(() => timedOut);

        var next = h.Enqueue(2);
        await cancel.CancelAsync();
        Assert.False(next.IsCompleted);
        Assert.Equal(1, h.Scheduler.QueuedCount);

        h.Finish(0);
        Assert.Equal([[0], [2]], h.Dispatched());
        h.Finish(1);
        Assert.Equal(20, await next);
        Assert.Equal(0, await running);
    }

    [Fact]
    public async Task ManyCallers_SomeCancelling_EachGetsItsOwnResultOrItsCancellation()
    {
        // The production setting (batches formed on the pool, answers continued there), with a batch that ends on another thread.
        using var scheduler = new DynamicBatchScheduler<int, int>(new BatchingPolicy { MaxBatchSize = 8 }, async batch =>
        {
            await Task.Yield();
            return [.. batch.Select(r => r.Payload * 10)];
        }, TimeProvider.System);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                var payload = (caller * 1000) + i;
                using var cancel = new CancellationTokenSource();
                var result = scheduler.EnqueueAsync(payload, 1, "[4]", new RequestOptions { CancellationToken = cancel.Token });
                if (i % 7 == 0)
                {
                    await cancel.CancelAsync();
                }

                try
                {
                    Assert.Equal(payload * 10, await result);
                }
                catch (OperationCanceledException)
                {
                    Assert.Equal(0, i % 7);
                }
            }
        })));

        Assert.Equal(0, scheduler.QueuedCount);
    }
}
