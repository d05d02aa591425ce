using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Execution;

namespace Cluster.Inference.Tests.Execution;

/// <summary>A batch's run timeout covers its run, not its wait for a session; a batch given up on never runs.</summary>
public sealed class InstancePoolTimeoutTests
{
    private static readonly TensorData[] Request = [TensorData.FromFloat32("x", [1f], 1, 1)];

    [Fact]
    public async Task RunTimeout_CountsFromTheSessionNotTheWaitForIt()
    {
        var model = new GatedModel();
        using var pool = await ModelInstancePool.CreateAsync("fake:0", 1, () => model, [], ["y"]);
        var first = pool.RunAsync([Request], ["y"], Timeout.InfiniteTimeSpan);
        var second = pool.RunAsync([Request], ["y"], TimeSpan.FromSeconds(2));

        // The second batch waits more than twice its run timeout for the only session, then runs at once.
        await Task.Delay(TimeSpan.FromSeconds(5));
        model.Open();

        await first;
        var result = await second;
        Assert.Single(result.Outputs);
        Assert.Equal(2, model.Runs);
    }

    [Fact]
    public async Task BatchOverrunningItsTimeout_GivesUpTheWaitingBatches_WhichNeverRun()
    {
        var model = new GatedModel();
        using var pool = await ModelInstancePool.CreateAsync("fake:0", 1, () => model, [], ["y"]);
        var hung = pool.RunAsync([Request], ["y"], TimeSpan.FromMilliseconds(200));
        var waiting = pool.RunAsync([Request], ["y"], TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<TimeoutException>(() => hung);
        await Assert.ThrowsAsync<DeviceFaultException>(() => waiting);
        model.Open();

        // A later batch runs after anything queued before it on the session's thread: had the given-up batch run, it would count.
        await pool.RunAsync([Request], ["y"], Timeout.InfiniteTimeSpan);
        Assert.Equal(2, model.Runs);
    }

    /// <summary>A model whose runs block until <see cref="Open"/>, counting them.</summary>
    private sealed class GatedModel : ILoadedModel
    {
        private readonly ManualResetEventSlim _gate = new();
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public long WeightBytes => 0;

        public void Open() => _gate.Set();

        public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
        {
            _gate.Wait();
            Interlocked.Increment(ref _runs);
            return new BatchResult { Outputs = [.. requests.Select(r => r)], Timings = new BatchTimings() };
        }

        public void Dispose() => _gate.Dispose();
    }
}
