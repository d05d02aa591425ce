using System.Collections.Concurrent;
using Cluster.Inference.Batching;

namespace Cluster.Inference.Tests.Batching;

/// <summary>The scheduler tells its failure observer of each queued request that ends in an error, once, as its caller takes it.</summary>
public sealed class FailureObserverTests
{
    [Fact]
    public async Task FailedAndCancelledRequests_AreReported_WithTheirPayloads_SuccessesAreNot()
    {
        var failures = new ConcurrentQueue<(int Payload, Type Error)>();
        var firstBatchMayEnd = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var scheduler = new DynamicBatchScheduler<int, int>(
            new BatchingPolicy { MaxBatchSize = 1 },
            async batch =>
            {
                if (batch[0].Payload == 1)
                {
                    await firstBatchMayEnd.Task;
                }

                return batch[0].Payload < 0 ? throw new InvalidOperationException("the model failed") : [batch[0].Payload * 10];
            },
            TimeProvider.System,
            failed: (payload, error) => failures.Enqueue((payload, error.GetType())));

        // Payload 1 holds the only slot, so payload 2 waits in the queue until it is cancelled.
        var first = scheduler.EnqueueAsync(1, 1, "[1]");
        using var cancel = new CancellationTokenSource();
        var cancelled = scheduler.EnqueueAsync(2, 1, "[1]", new RequestOptions { CancellationToken = cancel.Token });
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
        Assert.Equal([(2, typeof(OperationCanceledException))], failures);

        firstBatchMayEnd.SetResult();
        Assert.Equal(10, await first);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await scheduler.EnqueueAsync(-3, 1, "[1]"));
        Assert.Equal(30, await scheduler.EnqueueAsync(3, 1, "[1]"));

        Assert.Equal([(2, typeof(OperationCanceledException)), (-3, typeof(InvalidOperationException))], failures);
    }
}
