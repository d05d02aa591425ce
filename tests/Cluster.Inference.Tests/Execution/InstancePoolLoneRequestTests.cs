using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Execution;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Inference.Tests.Execution;

/// <summary>
/// A lone request runs on the thread that brought it while requests come one at a time; batches of several keep to the device thread. The
/// rule reads how long recent runs took and when the last ended: the pool's clock is a fake one that each run moves by its run time, so no
/// pre-emption of the test machine changes what the pool sees.
/// </summary>
public sealed class InstancePoolLoneRequestTests
{
    private const string DeviceThread = "device cpu:0#0";

    private static readonly TensorData[] Request = [TensorData.FromFloat32("x", [1f], 1, 1)];

    [Fact]
    public async Task LoneRequests_RunOnTheCallersPoolThread_WhenTheSessionMayRunOnAnyThread()
    {
        var model = new ThreadRecordingModel();
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 1, () => model, [], ["y"], loneRequestsOnCaller: true, time: model.Clock);
        for (var i = 0; i < 5; i++)
        {
            await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(5, model.Threads.Count);
        Assert.All(model.Threads, t => Assert.True(t.OnPool && t.Name != DeviceThread, $"ran on '{t.Name}'"));
    }

    [Fact]
    public async Task LoneRequests_RunOnTheDeviceThread_WhenTheSessionKeepsToItsThread()
    {
        var model = new ThreadRecordingModel();
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 1, () => model, [], ["y"]);
        await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        Assert.Equal(DeviceThread, Assert.Single(model.Threads).Name);
    }

    [Fact]
    public async Task AfterBatchesOfSeveral_EvenABatchOfOneRunsOnTheDeviceThread_LettingTheNextGather()
    {
        var model = new ThreadRecordingModel();
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 1, () => model, [], ["y"], loneRequestsOnCaller: true, time: model.Clock);
        await Task.Run(() => pool.RunAsync([Request, Request, Request, Request, Request, Request, Request, Request], ["y"], TimeSpan.FromSeconds(30)));
        await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        Assert.Equal([DeviceThread, DeviceThread], model.Threads.Select(t => t.Name));

        // Requests coming one at a time again bring the mean below 1.5 after a few batches, and lone requests run on their callers.
        for (var i = 0; i < 20; i++)
        {
            await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        }

        Assert.NotEqual(DeviceThread, model.Threads[^1].Name);
    }

    [Fact]
    public async Task AfterRunsLongerThanAMillisecond_LoneRequestsRunOnTheDeviceThread_HoldingNoPoolThread()
    {
        var model = new ThreadRecordingModel { RunTime = TimeSpan.FromMilliseconds(20) };
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 1, () => model, [], ["y"], loneRequestsOnCaller: true, time: model.Clock);
        for (var i = 0; i < 3; i++)
        {
            await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        }

        // The first run's time was not known before it: it ran on its caller; the later ones follow it.
        Assert.NotEqual(DeviceThread, model.Threads[0].Name);
        Assert.Equal([DeviceThread, DeviceThread], model.Threads.Skip(1).Select(t => t.Name));
    }

    [Fact]
    public async Task InATurn_ALoneRequestAfterAnIdleSpell_RunsWithinTheTurn_OneStraightAfterARun_AfterIt()
    {
        // As a grain turn: one caller's next request comes a round trip after its answer; calls queued behind a turn come straight after.
        var model = new ThreadRecordingModel { RunTime = TimeSpan.FromMicroseconds(900) };
        using var pool = await ModelInstancePool.CreateAsync("cpu:0", 1, () => model, [], ["y"], loneRequestsOnCaller: true, time: model.Clock);
        for (var i = 0; i < 20; i++)
        {
            await Task.Run(() => pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30)));
        }

        model.Clock.Advance(TimeSpan.FromMilliseconds(20));
        var turns = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;
        var (afterIdle, straightAfter, turnThread) = await Task.Factory.StartNew(() =>
        {
            t_inTurn = true;
            try
            {
                var afterIdle = pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30));
                var straightAfter = pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(30));
                return (afterIdle.IsCompletedSuccessfully, straightAfter, Environment.CurrentManagedThreadId);
            }
            finally
            {
                t_inTurn = false;
            }
        }, CancellationToken.None, TaskCreationOptions.None, turns);

        await straightAfter;
        Assert.True(afterIdle, "the request after an idle spell had not completed when the turn returned");
        Assert.True(model.Threads[^2].InTurn, "the request after an idle spell did not run within the turn");
        Assert.False(model.Threads[^1].InTurn, "the request straight after a run ran within the turn");
        Assert.Equal(turnThread, model.Threads[^2].ManagedId);
        Assert.All(model.Threads.TakeLast(2), t => Assert.NotEqual(DeviceThread, t.Name));
    }

    /// <summary>Set on the thread of the test's turn while the turn runs: a run reading it true ran within the turn, not after it.</summary>
    [ThreadStatic]
    private static bool t_inTurn;

    /// <summary>A model that records the thread of each run, and moves <see cref="Clock"/> by <see cref="RunTime"/> over each.</summary>
    private sealed class ThreadRecordingModel : ILoadedModel
    {
        public TimeSpan RunTime { get; init; }

        public FakeTimeProvider Clock { get; } = new();

        public List<(string? Name, bool OnPool, int ManagedId, bool InTurn)> Threads { get; } = [];

        public long WeightBytes => 0;

        public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
        {
            lock (Threads)
            {
                Threads.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId, t_inTurn));
            }

            Clock.Advance(RunTime);
            return new BatchResult { Outputs = [.. requests.Select(r => r)], Timings = new BatchTimings() };
        }

        public void Dispose()
        {
        }
    }
}
