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
}
