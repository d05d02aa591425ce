using System.Collections.Concurrent;
using System.Diagnostics;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Telemetry;

namespace Cluster.Grains.Tests;

/// <summary>Spans of two requests that share one batch: each request one trace, the batch linked to both.</summary>
[Collection(TwoSiloCollection.Name)]
public sealed class TracingTests(TwoSiloFixture fixture) : IDisposable
{
    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener = new();

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task TwoRequestsInOneBatch_EachTraceReachesTheQueue_BatchLinksBoth()
    {
        // Orleans carries the trace across grain calls only when its own spans are recorded too.
        _listener.ShouldListenTo = source => source.Name == InferenceTracing.SourceName
            || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal);
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _spans.Add;
        ActivitySource.AddActivityListener(_listener);

        await Task.WhenAll(
            fixture.Cluster.Client.InferAsync(BatchingModels.TracedPairs, [TensorData.FromInt64("ids", [1], 1, 1)], id: "trace-a"),
            fixture.Cluster.Client.InferAsync(BatchingModels.TracedPairs, [TensorData.FromInt64("ids", [2], 1, 1)], id: "trace-b"));

        var mine = _spans.Where(s => Equals(s.GetTagItem("model"), BatchingModels.TracedPairs)).ToList();
        var requests = mine.Where(s => s.OperationName == "infer").ToDictionary(s => (string)s.GetTagItem("request.id")!);
        var queues = mine.Where(s => s.OperationName == "queue").ToDictionary(s => (string)s.GetTagItem("request.id")!);
        Assert.Equal(["trace-a", "trace-b"], requests.Keys.Order());
        foreach (var id in requests.Keys)
        {
            Assert.Equal(requests[id].TraceId, queues[id].TraceId);
            Assert.NotEqual(requests[id].SpanId, queues[id].ParentSpanId);
        }

        Assert.NotEqual(requests["trace-a"].TraceId, requests["trace-b"].TraceId);
        var batch = Assert.Single(mine, s => s.OperationName == "batch");
        Assert.Equal(2, batch.GetTagItem("batch.size"));
        Assert.Equal(queues.Values.Select(q => q.SpanId.ToHexString()).Order(), batch.Links.Select(l => l.Context.SpanId.ToHexString()).Order());
        var run = Assert.Single(_spans, s => s.OperationName == "device.run" && s.TraceId == batch.TraceId);
        Assert.StartsWith((string)batch.GetTagItem("silo")! + "/", (string)run.GetTagItem("device")!, StringComparison.Ordinal);
    }
}
