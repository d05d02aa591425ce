using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The figures of the <c>batching</c> scenario, as written to <c>artifacts/bench/batching.json</c>.</summary>
public sealed record BatchingResults
{
    /// <summary>Raw ONNX Runtime at batch 64 in a tight loop, no cluster.</summary>
    [JsonPropertyName("raw_samples_per_s")] public required double RawSamplesPerSecond { get; init; }

    /// <summary>Raw ONNX Runtime median latency at batch 1.</summary>
    [JsonPropertyName("raw_batch1_p50_us")] public required double RawBatch1P50Microseconds { get; init; }

    /// <summary>The cluster on the batched model under the main concurrency.</summary>
    [JsonPropertyName("batched_samples_per_s")] public required double BatchedSamplesPerSecond { get; init; }

    /// <summary>The cluster on the model with max_batch_size 1 under the same load.</summary>
    [JsonPropertyName("unbatched_samples_per_s")] public required double UnbatchedSamplesPerSecond { get; init; }

    /// <summary>Median latency of the batched load.</summary>
    [JsonPropertyName("batched_p50_ms")] public required double BatchedP50Milliseconds { get; init; }

    /// <summary>99th percentile latency of the batched load.</summary>
    [JsonPropertyName("batched_p99_ms")] public required double BatchedP99Milliseconds { get; init; }

    /// <summary>Samples per batch the replica ran during the batched load (its warm-up included).</summary>
    [JsonPropertyName("batched_mean_batch_size")] public required double BatchedMeanBatchSize { get; init; }

    /// <summary>Requests per second on a model with next to no compute: the ceiling the cluster's own per-request cost sets.</summary>
    [JsonPropertyName("cheap_model_requests_per_s")] public required double CheapModelRequestsPerSecond { get; init; }

    /// <summary>Median latency of one caller on the batched model.</summary>
    [JsonPropertyName("concurrency1_p50_us")] public required double Concurrency1P50Microseconds { get; init; }

    /// <summary>What the cluster adds to one request: concurrency-1 p50 minus raw batch-1 p50.</summary>
    [JsonPropertyName("overhead_p50_us")] public double OverheadP50Microseconds => Concurrency1P50Microseconds - RawBatch1P50Microseconds;

    /// <summary>Batched cluster throughput as a share of the raw ceiling.</summary>
    [JsonPropertyName("batched_over_raw")] public double BatchedOverRaw => Ratio(BatchedSamplesPerSecond, RawSamplesPerSecond);

    /// <summary>Batched over unbatched cluster throughput.</summary>
    [JsonPropertyName("batched_over_unbatched")] public double BatchedOverUnbatched => Ratio(BatchedSamplesPerSecond, UnbatchedSamplesPerSecond);

    /// <summary>Processor count of the machine.</summary>
    [JsonPropertyName("cores")] public required int Cores { get; init; }

    /// <summary>Measured seconds per main load.</summary>
    [JsonPropertyName("seconds")] public required double Seconds { get; init; }

    /// <summary>Measured seconds per sweep level.</summary>
    [JsonPropertyName("sweep_seconds")] public required double SweepSeconds { get; init; }

    /// <summary>Unmeasured warm-up seconds before each load.</summary>
    [JsonPropertyName("warmup_seconds")] public required double WarmupSeconds { get; init; }

    /// <summary>Raw ONNX Runtime's CPU time per sample at several batch sizes (<see cref="RawBatchCost"/>).</summary>
    [JsonPropertyName("raw_cpu_us_per_sample")] public required IReadOnlyList<BatchCost> RawCpuPerSample { get; init; }

    /// <summary>Throughput and latency of the batched model against the number of callers.</summary>
    [JsonPropertyName("sweep")] public required IReadOnlyList<SweepPoint> Sweep { get; init; }

    private static double Ratio(double numerator, double denominator) => denominator > 0 ? Math.Round(numerator / denominator, 4) : 0;
}

/// <summary>One concurrency level of a sweep.</summary>
public sealed record SweepPoint(
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("samples_per_s")] double SamplesPerSecond,
    [property: JsonPropertyName("p50_ms")] double P50Milliseconds,
    [property: JsonPropertyName("p99_ms")] double P99Milliseconds)
{
    /// <summary>The sweep point a load measured.</summary>
    public static SweepPoint From(LoadResult load)
    {
        ArgumentNullException.ThrowIfNull(load);
        return new(load.Concurrency, load.SamplesPerSecond, load.P50Milliseconds, load.P99Milliseconds);
    }
}
