using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Inference.Batching;

namespace Cluster.Inference.Tests.Batching;

public sealed class DynamicBatchSchedulerTests
{
    private static readonly TimeSpan Microsecond = TimeSpan.FromMicroseconds(1);

    [Fact]
    public async Task Enqueue_IdleSlotNoDelay_SendsAtOnce()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        var result = h.Enqueue(7);
        Assert.Equal([[7]], h.Dispatched());
        h.Finish(0);
        Assert.Equal(70, await result);
    }

    [Fact]
    public async Task Enqueue_SlotBusy_RequestsAccumulateIntoNextBatch()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        _ = h.Enqueue(1);
        var later = new[] { h.Enqueue(2), h.Enqueue(3), h.Enqueue(4) };
        Assert.Equal([[1]], h.Dispatched());
        Assert.Equal(3, h.Scheduler.QueuedCount);

        h.Finish(0);
        Assert.Equal([[1], [2, 3, 4]], h.Dispatched());
        h.Finish(1);
        Assert.Equal(new[] { 20, 30, 40 }, await Task.WhenAll(later));
    }

    [Fact]
    public async Task NextBatch_FormedOnTheThreadPool_CarriesWhatWaitsThenAndRuns()
    {
        // The production setting: the batch after one that ended is formed on the thread pool, not by the thread that ended it.
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 }, formNextBatchInline: false);
        _ = h.Enqueue(1);
        var later = new[] { h.Enqueue(2), h.Enqueue(3) };
        h.Finish(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (h.Dispatched().Length < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.Equal([[1], [2, 3]], h.Dispatched());
        h.Finish(1);
        Assert.Equal(new[] { 20, 30 }, await Task.WhenAll(later).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Enqueue_MoreThanMaxBatchSize_SplitsIntoFullBatches()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 4 });
        _ = h.Enqueue(0, batchSize: 4);
        for (var i = 1; i <= 5; i++)
        {
            _ = h.Enqueue(i, batchSize: i == 5 ? 2 : 1);
        }

        h.Finish(0);
        h.Finish(1);
        Assert.Equal([[0], [1, 2, 3, 4], [5]], h.Dispatched());
    }

    [Fact]
    public void Enqueue_PreferredSizeReached_FiresWithoutWaitingForDelay()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, PreferredBatchSizes = [4], MaxQueueDelay = TimeSpan.FromSeconds(1) });
        _ = h.Enqueue(1);
        _ = h.Enqueue(2);
        _ = h.Enqueue(3);
        Assert.Empty(h.Batches);
        _ = h.Enqueue(4);
        Assert.Equal([[1, 2, 3, 4]], h.Dispatched());
    }

    [Fact]
    public void Enqueue_QueueDelay_HoldsBatchUntilOldestWaitedTheDelay()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, MaxQueueDelay = 100 * Microsecond });
        _ = h.Enqueue(1);
        h.Time.Advance(40 * Microsecond);
        _ = h.Enqueue(2);
        h.Time.Advance(59 * Microsecond);
        Assert.Empty(h.Batches);
        h.Time.Advance(Microsecond);
        Assert.Equal([[1, 2]], h.Dispatched());
    }

    [Fact]
    public void Enqueue_FullBatch_SentBeforeDelay()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 3, MaxQueueDelay = TimeSpan.FromSeconds(1) });
        _ = h.Enqueue(1);
        _ = h.Enqueue(2, batchSize: 2);
        Assert.Equal([[1, 2]], h.Dispatched());
    }

    [Fact]
    public void Priorities_LevelOneWorkGoesFirst()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1, PriorityLevels = 2, DefaultPriorityLevel = 2 });
        _ = h.Enqueue(0);
        _ = h.Enqueue(1);
        _ = h.Enqueue(2, options: new RequestOptions { Priority = 1 });
        _ = h.Enqueue(3, options: new RequestOptions { Priority = 2 });
        _ = h.Enqueue(4, options: new RequestOptions { Priority = 1 });
        for (var i = 0; i < 4; i++)
        {
            h.Finish(i);
        }

        Assert.Equal([[0], [2], [4], [1], [3]], h.Dispatched());
    }

    [Fact]
    public void Enqueue_PriorityOutsideLevels_RejectedNamingTheRange()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 4, PriorityLevels = 2, DefaultPriorityLevel = 1 });
        var error = Assert.Throws<InvalidInputException>(() => { _ = h.Enqueue(1, options: new RequestOptions { Priority = 3 }); });
        Assert.Equal("Priority 3 is outside the model's priority levels 1..2.", error.Message);
    }

    [Fact]
    public void DifferentShapes_NeverShareABatch()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        _ = h.Enqueue(0);
        _ = h.Enqueue(1, shape: "[4]");
        _ = h.Enqueue(2, shape: "[5]");
        _ = h.Enqueue(3, shape: "[4]");
        h.Finish(0);
        h.Finish(1);
        Assert.Equal([[0], [1, 3], [2]], h.Dispatched());
    }

    [Fact]
    public async Task Timeout_Reject_FailsQueuedRequestAndTakesNoSlot()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, DefaultTimeout = 100 * Microsecond });
        _ = h.Enqueue(0);
        var queued = h.Enqueue(1);
        h.Time.Advance(99 * Microsecond);
        Assert.False(queued.IsCompleted);
        h.Time.Advance(Microsecond);
        var error = await Assert.ThrowsAsync<InferenceTimeoutException>(() => queued);
        Assert.Equal("The request timed out after 0.1 ms in the queue.", error.Message);
        Assert.Equal(0, h.Scheduler.QueuedCount);

        h.Finish(0);
        Assert.Single(h.Batches);
    }

    [Fact]
    public void Timeout_Delay_MovesRequestBehindOthers()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1, DefaultTimeout = 100 * Microsecond, TimeoutAction = TimeoutAction.Delay });
        _ = h.Enqueue(0);
        _ = h.Enqueue(1);
        h.Time.Advance(100 * Microsecond);
        _ = h.Enqueue(2);
        h.Finish(0);
        h.Finish(1);
        Assert.Equal([[0], [2], [1]], h.Dispatched());
    }

    [Fact]
    public async Task Timeout_RequestOverride_UsedWhenAllowed()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, DefaultTimeout = TimeSpan.FromSeconds(10) });
        _ = h.Enqueue(0);
        var queued = h.Enqueue(1, options: new RequestOptions { Timeout = 5 * Microsecond });
        h.Time.Advance(5 * Microsecond);
        await Assert.ThrowsAsync<InferenceTimeoutException>(() => queued);
    }

    [Fact]
    public async Task Deadline_Passed_RejectsEvenWithDelayAction()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, TimeoutAction = TimeoutAction.Delay });
        _ = h.Enqueue(0);
        var queued = h.Enqueue(1, options: new RequestOptions { Deadline = h.Time.GetUtcNow() + (50 * Microsecond) });
        h.Time.Advance(50 * Microsecond);
        var error = await Assert.ThrowsAsync<InferenceTimeoutException>(() => queued);
        Assert.StartsWith("The request's deadline passed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueFull_RejectsAtOnce()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, MaxQueueSize = 2 });
        _ = h.Enqueue(0);
        var queued = new[] { h.Enqueue(1), h.Enqueue(2) };
        var error = Assert.Throws<QueueFullException>(() => { _ = h.Enqueue(3); });
        Assert.Equal("The queue is full (2 requests, max_queue_size); retry after 100 ms.", error.Message);
        Assert.Equal((TimeSpan.FromMilliseconds(100), true), (error.RetryAfter, error.SafeToRetry));

        h.Finish(0);
        h.Finish(1);
        Assert.Equal(new[] { 10, 20 }, await Task.WhenAll(queued));
    }

    [Fact]
    public void QueueFull_RetryAfter_IsTheQueuesDrainTimeAtTheMeanBatchTime()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 2, MaxQueueSize = 4 });
        _ = h.Enqueue(0);
        h.Time.Advance(TimeSpan.FromMilliseconds(40));
        h.Finish(0);
        _ = h.Enqueue(1);
        for (var i = 2; i < 6; i++)
        {
            _ = h.Enqueue(i);
        }

        var error = Assert.Throws<QueueFullException>(() => { _ = h.Enqueue(6); });

        // Four queued requests are two batches of two, at 40 ms each.
        Assert.Equal(TimeSpan.FromMilliseconds(80), error.RetryAfter);
    }

    [Fact]
    public async Task PreserveOrdering_HoldsLaterResultsUntilEarlierOnesFinish()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1, Slots = 2, PreserveOrdering = true });
        var first = h.Enqueue(1);
        var second = h.Enqueue(2);
        Assert.Equal([[1], [2]], h.Dispatched());

        h.Finish(1);
        Assert.False(second.IsCompleted);
        h.Finish(0);
        Assert.Equal(10, await first);
        Assert.Equal(20, await second);
    }

    [Fact]
    public async Task WithoutPreserveOrdering_ResultsReleaseAsBatchesFinish()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1, Slots = 2 });
        var first = h.Enqueue(1);
        var second = h.Enqueue(2);
        h.Finish(1);
        Assert.Equal(20, await second);
        Assert.False(first.IsCompleted);
    }

    [Fact]
    public void QueueDelay_SeveralSlotsIdle_DueBatchIsSharedAmongThem()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 64, Slots = 2, MaxQueueDelay = 100 * Microsecond });
        _ = h.Enqueue(1);
        _ = h.Enqueue(2, batchSize: 2);
        h.Time.Advance(60 * Microsecond);
        _ = h.Enqueue(3);
        _ = h.Enqueue(4);
        _ = h.Enqueue(5);
        Assert.Empty(h.Batches);

        // Five items due at once on two idle slots: the first three, then the rest (which waited only 40 µs) at once too.
        h.Time.Advance(40 * Microsecond);
        Assert.Equal([[1, 2], [3, 4, 5]], h.Dispatched());
    }

    [Fact]
    public void QueueDelay_OneSlotIdle_TakesTheWholeDueBatch()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 64, Slots = 2, MaxQueueDelay = 100 * Microsecond });
        _ = h.Enqueue(1);
        h.Time.Advance(100 * Microsecond);
        _ = h.Enqueue(2);
        _ = h.Enqueue(3);
        _ = h.Enqueue(4);
        h.Time.Advance(100 * Microsecond);
        Assert.Equal([[1], [2, 3, 4]], h.Dispatched());
    }

    [Fact]
    public async Task Cancellation_RemovesQueuedRequestAndFreesItsPlace()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8, MaxQueueSize = 1 });
        using var cancel = new CancellationTokenSource();
        _ = h.Enqueue(0);
        var queued = h.Enqueue(1, options: new RequestOptions { CancellationToken = cancel.Token });
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.Equal(0, h.Scheduler.QueuedCount);

        var replacement = h.Enqueue(2);
        h.Finish(0);
        Assert.Equal([[0], [2]], h.Dispatched());
        h.Finish(1);
        Assert.Equal(20, await replacement);
    }

    [Fact]
    public async Task BatchFails_EveryRequestInItGetsTheErrorAndNextBatchRuns()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        var failing = h.Enqueue(0);
        var next = h.Enqueue(1);
        h.Fail(0, new ModelUnavailableException("device lost"));
        Assert.Equal("device lost", (await Assert.ThrowsAsync<ModelUnavailableException>(() => failing)).Message);
        h.Finish(1);
        Assert.Equal(10, await next);
    }

    [Fact]
    public void NoBatchDimension_RunsRequestsOneByOne()
    {
        using var h = new SchedulerHarness(BatchingPolicy.From(new ModelConfig { MaxBatchSize = 0, InstanceCount = 2 }));
        _ = h.Enqueue(1);
        _ = h.Enqueue(2);
        _ = h.Enqueue(3);
        Assert.Equal([[1], [2]], h.Dispatched());
        h.Finish(0);
        Assert.Equal([[1], [2], [3]], h.Dispatched());
    }

    [Fact]
    public async Task Timeout_BeyondTheCalendar_MeansNoTimeoutAndKeepsOrdering()
    {
        using var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1, PreserveOrdering = true });
        var first = h.Enqueue(1);
        var second = h.Enqueue(2, options: new RequestOptions { Timeout = TimeSpan.MaxValue });
        h.Time.Advance(TimeSpan.FromDays(365));
        h.Finish(0);
        h.Finish(1);
        Assert.Equal(10, await first);
        Assert.Equal(20, await second);
    }

    [Fact]
    public async Task Stop_FailsQueuedRequestsWithRetriableError()
    {
        var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 8 });
        _ = h.Enqueue(0);
        var queued = h.Enqueue(1);
        h.Dispose();
        var error = await Assert.ThrowsAsync<ReplicaNotStartedException>(() => queued);
        Assert.Contains("retry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAccepting_RefusesNewRequestsAndRunsQueuedOnes()
    {
        var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1 });
        var running = h.Enqueue(0);
        var queued = h.Enqueue(1);
        h.Scheduler.StopAccepting();
        await Assert.ThrowsAsync<ReplicaNotStartedException>(() => h.Enqueue(2));
        h.Finish(0);
        h.Finish(1);
        Assert.Equal(0, await running);
        Assert.Equal(10, await queued);
    }

    [Fact]
    public async Task Drained_CompletesOnlyWhenStoppedAndTheLastDispatchedBatchReturned()
    {
        var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1 });
        Assert.False(h.Scheduler.Drained.IsCompleted);
        var running = h.Enqueue(0);
        var queued = h.Enqueue(1);
        h.Scheduler.StopAccepting();
        Assert.False(h.Scheduler.Drained.IsCompleted);

        h.Finish(0);
        // The queue is empty now, but its last request runs in a batch that has not returned.
        Assert.Equal(0, h.Scheduler.QueuedCount);
        Assert.Equal(2, h.Batches.Count);
        Assert.False(h.Scheduler.Drained.IsCompleted);

        h.Finish(1);
        await h.Scheduler.Drained.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((0, 10), (await running, await queued));
    }

    [Fact]
    public async Task Drained_IdleSchedulerDrainsWhenItStopsAccepting_NotBefore()
    {
        var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1 });
        var first = h.Enqueue(0);
        h.Finish(0);
        Assert.Equal(0, await first);
        Assert.False(h.Scheduler.Drained.IsCompleted);
        h.Scheduler.StopAccepting();
        await h.Scheduler.Drained.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Drained_CancelledQueuedRequestLeavesOnlyTheRunningBatchToWaitFor()
    {
        var h = new SchedulerHarness(new BatchingPolicy { MaxBatchSize = 1 });
        using var cancel = new CancellationTokenSource();
        var running = h.Enqueue(0);
        var queued = h.Enqueue(1, options: new RequestOptions { CancellationToken = cancel.Token });
        h.Scheduler.StopAccepting();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.False(h.Scheduler.Drained.IsCompleted);

        h.Finish(0);
        await h.Scheduler.Drained.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(h.Batches);
        Assert.Equal(0, await running);
    }
}
