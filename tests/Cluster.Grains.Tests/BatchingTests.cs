using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;

namespace Cluster.Grains.Tests;

/// <summary>The dynamic batcher inside a model replica grain, driven through the SDK of a real cluster.</summary>
[Collection(TwoSiloCollection.Name)]
public sealed class BatchingTests(TwoSiloFixture fixture)
{
    private InferenceClient Client => fixture.Cluster.Client;

    [Fact]
    public async Task ConcurrentRequests_FormOneBatch_EachCallerGetsItsOwnResult()
    {
        var inputs = Enumerable.Range(0, 8).Select(i => TensorData.FromFloat32("features", [i, -i, i * 0.5f, 1f], 1, 4)).ToArray();
        var responses = await Task.WhenAll(inputs.Select(input => Client.InferAsync(BatchingModels.PreferredEight, [input])));

        using var direct = new OnnxRuntimeModel(ModelFile(BatchingModels.PreferredEight), DeviceDescriptor.Cpu);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(direct.Run([inputs[i]], ["probabilities"])[0].AsFloat32(), responses[i].Output("probabilities").AsFloat32());
        }

        var statistics = await Client.GetStatisticsAsync(BatchingModels.PreferredEight);
        Assert.Equal((8L, 1L), (statistics.InferenceCount, statistics.ExecutionCount));
        var batch = Assert.Single(statistics.Batches);
        Assert.Equal(8, batch.BatchSize);
        Assert.Equal(1, batch.ComputeInfer.Count);
        Assert.Equal(8, statistics.Success.Count);
        Assert.Equal(8, statistics.Queue.Count);
        Assert.Equal(8, statistics.ComputeInfer.Count);
        Assert.Equal(0, statistics.Fail.Count);
        Assert.True(statistics.LastInferenceMs > 0);
    }

    [Fact]
    public async Task DifferentSequenceLengths_AreBatchedSeparately()
    {
        var shortA = Client.InferAsync(BatchingModels.PreferredTwoInt64, [TensorData.FromInt64("ids", [1, 2, 3], 1, 3)]);
        var longA = Client.InferAsync(BatchingModels.PreferredTwoInt64, [TensorData.FromInt64("ids", [1, 2, 3, 4, 5], 1, 5)]);
        var shortB = Client.InferAsync(BatchingModels.PreferredTwoInt64, [TensorData.FromInt64("ids", [4, 5, 6], 1, 3)]);
        var longB = Client.InferAsync(BatchingModels.PreferredTwoInt64, [TensorData.FromInt64("ids", [6, 7, 8, 9, 10], 1, 5)]);

        Assert.Equal(new[] { 4L, 7L, 10L }, (await shortA).Output("scaled").AsInt64());
        Assert.Equal(new[] { 13L, 16L, 19L }, (await shortB).Output("scaled").AsInt64());
        Assert.Equal(new[] { 4L, 7L, 10L, 13L, 16L }, (await longA).Output("scaled").AsInt64());
        Assert.Equal(new[] { 19L, 22L, 25L, 28L, 31L }, (await longB).Output("scaled").AsInt64());
        var statistics = await Client.GetStatisticsAsync(BatchingModels.PreferredTwoInt64);
        Assert.Equal(2, statistics.ExecutionCount);
        Assert.Equal(2, Assert.Single(statistics.Batches).BatchSize);
    }

    [Fact]
    public async Task QueuedRequest_Cancelled_LeavesTheQueue_FullQueueRejectsAtOnce()
    {
        using var cancel = new CancellationTokenSource();
        var waiting = Client.InferAsync(BatchingModels.SlowQueue, [Row()], cancellationToken: cancel.Token);
        var replica = fixture.Cluster.Connection.Grains.GetGrain<IModelBatcherGrain>($"{BatchingModels.SlowQueue}:1/0");
        await WaitUntilAsync(async () => (await replica.GetStatusAsync()).Queued == 1);

        var full = await Assert.ThrowsAsync<QueueFullException>(() => Client.InferAsync(BatchingModels.SlowQueue, [Row()]));
        Assert.StartsWith("The queue is full (1 requests, max_queue_size); retry after ", full.Message, StringComparison.Ordinal);
        Assert.True(full.RetryAfter > TimeSpan.Zero);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await WaitUntilAsync(async () => (await replica.GetStatusAsync()).Queued == 0);
        Assert.Equal(0, (await replica.GetStatusAsync()).RunningBatches);
    }

    [Fact]
    public async Task RequestTimeout_PassesWhileQueued_RejectedAsTimeout()
    {
        var error = await Assert.ThrowsAsync<InferenceTimeoutException>(() =>
            Client.InferAsync(BatchingModels.SlowQueue, [Row()], options: new InferOptions { Timeout = TimeSpan.FromMilliseconds(50) }));
        Assert.StartsWith("The request timed out after ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredWarmup_RunsBeforeTheReplicaServes()
    {
        var response = await Client.InferAsync(BatchingModels.Warmed, [Row()]);
        Assert.Equal(3, response.Output("probabilities").AsFloat32().Length);
        var status = await fixture.Cluster.Connection.Grains.GetGrain<IModelBatcherGrain>($"{BatchingModels.Warmed}:1/0").GetStatusAsync();
        Assert.True(status.Ready);
        Assert.EndsWith("/cpu:0", status.Device, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadWarmup_FailsTheLoadNamingWarmupAndInput()
    {
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => Client.InferAsync(BatchingModels.BadWarmup, [Row()]));
        Assert.Equal($"Model '{BatchingModels.BadWarmup}' version 1: Warm-up 'typo' gives no data for input 'features'.", error.Message);
    }

    private static TensorData Row() => TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);

    private string ModelFile(string model) => Path.Combine(fixture.Cluster.ModelRepository, model, "1", "model.onnx");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
