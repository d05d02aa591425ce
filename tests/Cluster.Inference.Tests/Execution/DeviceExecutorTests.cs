using Cluster.Contracts.Errors;
using Cluster.Inference.Execution;

namespace Cluster.Inference.Tests.Execution;

public sealed class DeviceExecutorTests
{
    [Fact]
    public async Task RunAsync_RunsOnTheDevicesOwnThread()
    {
        using var executor = new DeviceExecutor("cpu:0");
        var threadName = await executor.RunAsync(() => Thread.CurrentThread.Name);
        Assert.Equal("device cpu:0", threadName);
    }

    [Fact]
    public async Task RunAsync_RunsWorkInOrder()
    {
        using var executor = new DeviceExecutor("cpu:0");
        var order = new List<int>();
        var tasks = Enumerable.Range(0, 20).Select(i => executor.RunAsync(() =>
        {
            order.Add(i);
            return i;
        })).ToArray();
        await Task.WhenAll(tasks);
        Assert.Equal(Enumerable.Range(0, 20), order);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_FaultsThatTaskOnly()
    {
        using var executor = new DeviceExecutor("cpu:0");
        await Assert.ThrowsAsync<InvalidOperationException>(() => executor.RunAsync<int>(() => throw new InvalidOperationException("boom")));
        Assert.Equal(7, await executor.RunAsync(() => 7));
    }

    [Fact]
    public async Task RunAsync_AfterDispose_RefusesAsNotStarted_SoTheCallerMayRetry()
    {
        var executor = new DeviceExecutor("cpu:0");
        executor.Dispose();
        var ran = false;
        var refused = Assert.Throws<ReplicaNotStartedException>(() => { _ = executor.RunAsync(() => ran = true); });
        Assert.True(refused.SafeToRetry);
        Assert.Contains("cpu:0", refused.Message, StringComparison.Ordinal);
        await Task.Delay(50);
        Assert.False(ran);
    }

    [Fact]
    public async Task RunAsync_OnCallerWhenIdle_FromAPoolThread_RunsOnAPoolThreadNotTheDevices()
    {
        using var executor = new DeviceExecutor("cpu:0");
        var (onPool, name) = await Task.Run(() =>
            executor.RunAsync(() => (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name), onCallerWhenIdle: true));
        Assert.True(onPool);
        Assert.NotEqual("device cpu:0", name);
    }

    [Fact]
    public async Task RunAsync_OnCallerWhenIdle_FromAPoolThread_RunsAtOnceOnThatThread()
    {
        using var executor = new DeviceExecutor("cpu:0");
        var (completedOnReturn, caller, ranOn) = await Task.Run(() =>
        {
            var run = executor.RunAsync(() => Environment.CurrentManagedThreadId, onCallerWhenIdle: true);
            return (run.IsCompletedSuccessfully, Environment.CurrentManagedThreadId, run.IsCompletedSuccessfully ? run.Result : -1);
        });
        Assert.True(completedOnReturn, "the lone item had not run when RunAsync returned");
        Assert.Equal(caller, ranOn);
    }

    [Fact]
    public async Task RunAsync_OnCallerWhenIdle_UnderASchedulerOfItsOwn_RunsAfterTheCallersWork_OnAPoolThread()
    {
        // As in a grain turn: running there would hold the scheduler's next turns back until the item ends.
        using var executor = new DeviceExecutor("cpu:0");
        using var gate = new ManualResetEventSlim();
        var turns = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var (completedOnReturn, run) = await Task.Factory.StartNew(() =>
        {
            var run = executor.RunAsync(() =>
            {
                gate.Wait(TimeSpan.FromSeconds(30));
                return (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name);
            }, onCallerWhenIdle: true);
            return (run.IsCompleted, run);
        }, CancellationToken.None, TaskCreationOptions.None, turns);
        gate.Set();
        Assert.False(completedOnReturn, "the item ran inside the scheduler's turn");
        var (onPool, name) = await run;
        Assert.True(onPool);
        Assert.NotEqual("device cpu:0", name);
    }

    [Fact]
    public async Task RunAsync_AtOnceInATurn_UnderASchedulerOfItsOwn_RunsWithinTheTurn()
    {
        using var executor = new DeviceExecutor("cpu:0");
        var turns = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var (completedOnReturn, caller, ranOn) = await Task.Factory.StartNew(() =>
        {
            var run = executor.RunAsync(() => Environment.CurrentManagedThreadId, onCallerWhenIdle: true, atOnceInATurn: true);
            return (run.IsCompletedSuccessfully, Environment.CurrentManagedThreadId, run.IsCompletedSuccessfully ? run.Result : -1);
        }, CancellationToken.None, TaskCreationOptions.None, turns);
        Assert.True(completedOnReturn, "the lone item had not run when RunAsync returned");
        Assert.Equal(caller, ranOn);
    }

    [Fact]
    public async Task RunAsync_OnCallerWhenIdle_FromAThreadOutsideThePool_RunsOnTheDevicesThread()
    {
        using var executor = new DeviceExecutor("cpu:0");
        Task<string?>? run = null;
        var caller = new Thread(() => run = executor.RunAsync(() => Thread.CurrentThread.Name, onCallerWhenIdle: true));
        caller.Start();
        caller.Join();
        Assert.Equal("device cpu:0", await run!);
    }

    [Fact]
    public async Task RunAsync_OnCallerWhileTheDeviceRunsAnItem_QueuesBehindItOnTheDevicesThread()
    {
        using var executor = new DeviceExecutor("cpu:0");
        using var gate = new ManualResetEventSlim();
        var order = new List<string>();
        var first = executor.RunAsync(() =>
        {
            gate.Wait();
            order.Add("first");
            return Thread.CurrentThread.Name;
        });
        var second = await StartOnPoolThread(() => executor.RunAsync(() =>
        {
            order.Add("second");
            return Thread.CurrentThread.Name;
        }, onCallerWhenIdle: true));
        gate.Set();
        Assert.Equal(new string?[] { "device cpu:0", "device cpu:0" }, await Task.WhenAll(first, second));
        Assert.Equal(["first", "second"], order);
    }

    [Fact]
    public async Task RunAsync_WhileAnItemsResultContinuesOnTheDevicesThread_ALoneCallerRunsOnItsOwn()
    {
        using var executor = new DeviceExecutor("cpu:0");
        using var attached = new ManualResetEventSlim();

        // The first item's awaiter (attached before its work ends) continues on the device thread and holds it until the lone item has
        // run: the device is idle again once the first item's work ended, so the lone item runs on its pool thread rather than queue
        // behind the continuation.
        var first = executor.RunAsync(() =>
        {
            attached.Wait();
            return 1;
        });
        var continued = first.ContinueWith(
            _ =>
            {
                var run = Task.Run(() => executor.RunAsync(() => Thread.CurrentThread, onCallerWhenIdle: true));
                return (ContinuedOn: Thread.CurrentThread.Name, Lone: run.Wait(TimeSpan.FromSeconds(10)) ? run.Result : null);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        attached.Set();
        var (continuedOn, lone) = await continued;
        Assert.Equal("device cpu:0", continuedOn);
        Assert.True(lone is not null, "the lone item was still queued behind the continuation after 10 s");
        Assert.True(lone.IsThreadPoolThread, $"ran on '{lone.Name}'");
    }

    [Fact]
    public async Task RunAsync_WhileAnItemRunsOnItsCaller_TheNextWaitsForIt_AndRunsOnTheDevicesThread()
    {
        using var executor = new DeviceExecutor("cpu:0");
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var order = new List<string>();
        var lone = StartOnPoolThread(() => executor.RunAsync(() =>
        {
            started.Set();
            gate.Wait();
            order.Add("lone");
            return true;
        }, onCallerWhenIdle: true)).Unwrap();
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)), "the lone item did not start");
        var queued = executor.RunAsync(() =>
        {
            order.Add("queued");
            return Thread.CurrentThread.Name;
        });
        await Task.Delay(100);
        Assert.False(queued.IsCompleted, "an item ran while another still ran on its caller's thread");
        gate.Set();
        Assert.True(await lone);
        Assert.Equal("device cpu:0", await queued);
        Assert.Equal(["lone", "queued"], order);
    }

    [Fact]
    public async Task Dispose_WhileAnItemRunsOnItsCaller_RunsWhatWasQueued_ThenRefuses()
    {
        var executor = new DeviceExecutor("cpu:0");
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var lone = StartOnPoolThread(() => executor.RunAsync(() =>
        {
            started.Set();
            return gate.Wait(TimeSpan.FromSeconds(30));
        }, onCallerWhenIdle: true)).Unwrap();
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)), "the lone item did not start");
        var queued = executor.RunAsync(() => 7);
        executor.Dispose();
        Assert.Throws<ReplicaNotStartedException>(() => { _ = executor.RunAsync(() => 8, onCallerWhenIdle: true); });
        gate.Set();
        Assert.True(await lone);
        Assert.Equal(7, await queued);
    }

    /// <summary>
    /// Asks on a thread-pool thread and returns what it was given once asked: at once for an item that queues, only after the work for
    /// one that runs there (unwrap it and wait for the work to start).
    /// </summary>
    private static Task<Task<T>> StartOnPoolThread<T>(Func<Task<T>> ask) =>
        Task.Factory.StartNew(ask, CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
}
