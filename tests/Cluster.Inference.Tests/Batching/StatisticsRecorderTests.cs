using System.Diagnostics.Metrics;
using Cluster.Inference.Batching;
using Cluster.Inference.Replicas;
using Cluster.Inference.Telemetry;

namespace Cluster.Inference.Tests.Batching;

public sealed class StatisticsRecorderTests
{
    [Fact]
    public void RecordQueued_Batch_CountsEveryRequestOnceAndAddsTheWaitsToTheCounterAndHistogram()
    {
        // A model name of this test's own: the meters are the process's, and other tests record into them at the same time.
        var model = $"queued-{Guid.NewGuid():N}";
        long counted = 0;
        var histogram = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name is "nv_inference_queue_duration_us" or "inference_queue_time_ms")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (IsOf(model, tags))
            {
                Interlocked.Add(ref counted, value);
            }
        });
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (IsOf(model, tags))
            {
                lock (histogram)
                {
                    histogram.Add(value);
                }
            }
        });
        listener.Start();
        using var metrics = new InferenceMetrics(new DeviceUsageBoard(), new ReplicaBoard());
        var recorder = new StatisticsRecorder(model, 1, TimeProvider.System, metrics);

        recorder.RecordQueued([TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(4)]);

        var queue = recorder.Snapshot().Queue;
        Assert.Equal(3, queue.Count);
        Assert.Equal(7_000_000, queue.Nanoseconds);
        Assert.Equal(7_000, Interlocked.Read(ref counted));
        Assert.Equal([1.0, 2.0, 4.0], histogram.Order());
    }

    private static bool IsOf(string model, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "model")
            {
                return Equals(tag.Value, model);
            }
        }

        return false;
    }
}
