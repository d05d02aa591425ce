using System.Diagnostics.Metrics;
using Cluster.Inference.Replicas;

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
public sealed class InferenceMetrics : IDisposable
{
    /// <summary>The meter's name, to enable it in an OpenTelemetry pipeline.</summary>
    public const string MeterName = "Cluster.Inference";

    /// <summary>Bucket bounds of the batch-size histogram.</summary>
    public static readonly double[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private static readonly Meter Meter = ProcessGauges.Meter;
    private static readonly Counter<long> SuccessCounter =
        Meter.CreateCounter<long>("nv_inference_request_success", description: "Successful inference requests");
    private static readonly Counter<long> FailureCounter =
        Meter.CreateCounter<long>("nv_inference_request_failure", description: "Failed inference requests, by reason");
    private static readonly Counter<long> InferenceCounter =
        Meter.CreateCounter<long>("nv_inference_count", description: "Inferences performed (samples, counting each batch item)");
    private static readonly Counter<long> ExecutionCounter = Meter.CreateCounter<long>("nv_inference_exec_count", description: "Model executions (batches)");
    private static readonly UpDownCounter<long> PendingCounter =
        Meter.CreateUpDownCounter<long>("nv_inference_pending_request_count", description: "Requests received and not yet answered");
    private static readonly Counter<long> RequestDurationCounter =
        Meter.CreateCounter<long>("nv_inference_request_duration_us", description: "Cumulative request time, arrival to response (microseconds)");
    private static readonly Counter<long> QueueDurationCounter =
        Meter.CreateCounter<long>("nv_inference_queue_duration_us", description: "Cumulative time requests waited in the queue (microseconds)");
    private static readonly Counter<long> ComputeInputCounter =
        Meter.CreateCounter<long>("nv_inference_compute_input_duration_us", description: "Cumulative batch input assembly time, per request (microseconds)");
    private static readonly Counter<long> ComputeInferCounter =
        Meter.CreateCounter<long>("nv_inference_compute_infer_duration_us", description: "Cumulative model run time, per request (microseconds)");
    private static readonly Counter<long> ComputeOutputCounter =
        Meter.CreateCounter<long>("nv_inference_compute_output_duration_us", description: "Cumulative output split time, per request (microseconds)");
    private static readonly Histogram<double> LatencyHistogram =
        Meter.CreateHistogram<double>("inference_request_latency_ms", description: "Request latency, arrival to response (milliseconds)");
    private static readonly Histogram<double> QueueHistogram =
        Meter.CreateHistogram<double>("inference_queue_time_ms", description: "Time requests waited in the queue (milliseconds)");
    private static readonly Counter<long> TokenCounter =
        Meter.CreateCounter<long>("inference_text_tokens", description: "Token positions run by text models, by kind: real or padding");
    private static readonly Counter<long> QuarantineCounter =
        Meter.CreateCounter<long>("cluster_device_quarantines", description: "Times a device was taken out of service after a fault, by silo and device");
    private static readonly UpDownCounter<long> QuarantinedGauge =
        Meter.CreateUpDownCounter<long>("cluster_device_quarantined", description: "1 while a device is out of service after a fault, by silo and device");
    private static readonly Histogram<long> BatchSizeHistogram = Meter.CreateHistogram<long>("inference_batch_size", description: "Samples per executed batch");

    private readonly IDisposable[] _gauges;

    /// <summary>Registers this silo's device and replica readings with the process's gauges.</summary>
    public InferenceMetrics(DeviceUsageBoard devices, ReplicaBoard replicas) => _gauges =
    [
        ProcessGauges.Register("cluster_model_replicas", "Model replicas ready on a silo", () => replicas.Counts().Select(r => new Measurement<double>(
            r.Count,
            new KeyValuePair<string, object?>("model", r.Target.Model),
            new KeyValuePair<string, object?>("version", r.Target.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new KeyValuePair<string, object?>("silo", r.Target.Silo)))),
        ProcessGauges.Register("nv_gpu_utilization", "Fraction of time the device ran batches since the previous scrape (0..1)", () =>
            Read(devices, d => d.TakeUtilization())),
        ProcessGauges.Register("nv_gpu_memory_total_bytes", "Device memory", () => Read(devices, d => d.MemoryTotalBytes)),
        ProcessGauges.Register("nv_gpu_memory_used_bytes", "Device memory held by loaded models", () => Read(devices, d => d.MemoryUsedBytes)),
    ];

    public Counter<long> Success => SuccessCounter;

    public Counter<long> Failure => FailureCounter;

    public Counter<long> Inferences => InferenceCounter;

    public Counter<long> Executions => ExecutionCounter;

    public UpDownCounter<long> Pending => PendingCounter;

    public Counter<long> RequestDuration => RequestDurationCounter;

    public Counter<long> QueueDuration => QueueDurationCounter;

    public Counter<long> ComputeInput => ComputeInputCounter;

    public Counter<long> ComputeInfer => ComputeInferCounter;

    public Counter<long> ComputeOutput => ComputeOutputCounter;

    public Histogram<double> RequestLatency => LatencyHistogram;

    public Histogram<double> QueueTime => QueueHistogram;

    public Histogram<long> BatchSize => BatchSizeHistogram;

    /// <summary>Times a device was quarantined (tags <c>silo</c>, <c>device</c>).</summary>
    public Counter<long> DeviceQuarantines => QuarantineCounter;

    /// <summary>1 while a device is quarantined, 0 after it returns (tags <c>silo</c>, <c>device</c>).</summary>
    public UpDownCounter<long> DeviceQuarantined => QuarantinedGauge;

    /// <summary>Token positions run by text models (tag <c>kind</c>: real or padding).</summary>
    public Counter<long> Tokens => TokenCounter;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var gauge in _gauges)
        {
            gauge.Dispose();
        }
    }

    private static IEnumerable<Measurement<double>> Read(DeviceUsageBoard devices, Func<DeviceUsage, double> value)
    {
        foreach (var device in devices.Devices)
        {
            yield return new Measurement<double>(value(device), new KeyValuePair<string, object?>("silo", device.Silo), new KeyValuePair<string,
                object?>("device", device.Device));
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
