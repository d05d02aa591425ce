using System.Diagnostics.Metrics;

namespace Cluster.Inference.Telemetry;

/// <summary>Why a request failed, in Triton's <c>reason</c> label values.</summary>
public enum FailureReason
{
    /// <summary>Queue full, or the request's timeout or deadline passed while queued.</summary>
    Rejected,

    /// <summary>The caller cancelled it.</summary>
    Canceled,

    /// <summary>The model or its device failed.</summary>
    Backend,

    /// <summary>Anything else (bad input, unknown version).</summary>
    Other,
}

/// <summary>
/// The inference instruments, named as Triton names its Prometheus metrics so existing dashboards
/// work: cumulative counters (<c>nv_inference_*</c>; durations in microseconds), the pending-request
/// gauge, and histograms of request latency, queue time and batch size.
/// </summary>
public sealed class InferenceMetrics
{
    /// <summary>The meter's name, to enable it in an OpenTelemetry pipeline.</summary>
    public const string MeterName = "Cluster.Inference";

    /// <summary>Bucket bounds of the batch-size histogram.</summary>
    public static readonly double[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    /// <summary>Creates the instruments on a meter from <paramref name="meters"/>; gauges read <paramref name="devices"/> and <paramref name="replicas"/>.</summary>
    public InferenceMetrics(IMeterFactory meters, DeviceUsageBoard devices, ReplicaBoard replicas)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("cluster_model_replicas", () => replicas.Counts().Select(r => new Measurement<int>(
            r.Count,
            new KeyValuePair<string, object?>("model", r.Target.Model),
            new KeyValuePair<string, object?>("version", r.Target.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)))), description: "Model replicas ready on this silo");
        meter.CreateObservableGauge("nv_gpu_utilization", () => Read(devices, d => d.TakeUtilization()), description: "Fraction of time the device ran batches since the previous scrape (0..1)");
        meter.CreateObservableGauge("nv_gpu_memory_total_bytes", () => Read(devices, d => d.MemoryTotalBytes), description: "Device memory");
        meter.CreateObservableGauge("nv_gpu_memory_used_bytes", () => Read(devices, d => d.MemoryUsedBytes), description: "Device memory held by loaded models");
        Success = meter.CreateCounter<long>("nv_inference_request_success", description: "Successful inference requests");
        Failure = meter.CreateCounter<long>("nv_inference_request_failure", description: "Failed inference requests, by reason");
        Inferences = meter.CreateCounter<long>("nv_inference_count", description: "Inferences performed (samples, counting each batch item)");
        Executions = meter.CreateCounter<long>("nv_inference_exec_count", description: "Model executions (batches)");
        Pending = meter.CreateUpDownCounter<long>("nv_inference_pending_request_count", description: "Requests received and not yet answered");
        RequestDuration = meter.CreateCounter<long>("nv_inference_request_duration_us", description: "Cumulative request time, arrival to response (microseconds)");
        QueueDuration = meter.CreateCounter<long>("nv_inference_queue_duration_us", description: "Cumulative time requests waited in the queue (microseconds)");
        ComputeInput = meter.CreateCounter<long>("nv_inference_compute_input_duration_us", description: "Cumulative batch input assembly time, per request (microseconds)");
        ComputeInfer = meter.CreateCounter<long>("nv_inference_compute_infer_duration_us", description: "Cumulative model run time, per request (microseconds)");
        ComputeOutput = meter.CreateCounter<long>("nv_inference_compute_output_duration_us", description: "Cumulative output split time, per request (microseconds)");
        RequestLatency = meter.CreateHistogram<double>("inference_request_latency_ms", description: "Request latency, arrival to response (milliseconds)");
        QueueTime = meter.CreateHistogram<double>("inference_queue_time_ms", description: "Time requests waited in the queue (milliseconds)");
        BatchSize = meter.CreateHistogram<long>("inference_batch_size", description: "Samples per executed batch");
    }

    public Counter<long> Success { get; }

    public Counter<long> Failure { get; }

    public Counter<long> Inferences { get; }

    public Counter<long> Executions { get; }

    public UpDownCounter<long> Pending { get; }

    public Counter<long> RequestDuration { get; }

    public Counter<long> QueueDuration { get; }

    public Counter<long> ComputeInput { get; }

    public Counter<long> ComputeInfer { get; }

    public Counter<long> ComputeOutput { get; }

    public Histogram<double> RequestLatency { get; }

    public Histogram<double> QueueTime { get; }

    public Histogram<long> BatchSize { get; }

    private static IEnumerable<Measurement<T>> Read<T>(DeviceUsageBoard devices, Func<DeviceUsage, T> value)
        where T : struct
    {
        foreach (var device in devices.Devices)
        {
            yield return new Measurement<T>(value(device), new KeyValuePair<string, object?>("silo", device.Silo), new KeyValuePair<string, object?>("device", device.Device));
        }
    }

    /// <summary>The reason label's value.</summary>
    public static string Label(FailureReason reason) => reason switch
    {
        FailureReason.Rejected => "REJECTED",
        FailureReason.Canceled => "CANCELED",
        FailureReason.Backend => "BACKEND",
        _ => "OTHER",
    };
}
