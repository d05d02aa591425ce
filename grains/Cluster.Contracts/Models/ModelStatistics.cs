namespace Cluster.Contracts.Models;

/// <summary>Triton's per-model-version statistics (ModelStatistics in the inference protocol).</summary>
[GenerateSerializer, Immutable]
public sealed record ModelStatistics
{
    /// <summary>The model.</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary>The version.</summary>
    [Id(1)] public required long Version { get; init; }

    /// <summary>When the last request finished, in milliseconds since the Unix epoch (0 if none).</summary>
    [Id(2)] public long LastInferenceMs { get; init; }

    /// <summary>Samples inferred (sum of the requests' batch sizes).</summary>
    [Id(3)] public long InferenceCount { get; init; }

    /// <summary>Batches executed.</summary>
    [Id(4)] public long ExecutionCount { get; init; }

    /// <summary>Requests that succeeded, and their total time from arrival to response.</summary>
    [Id(5)] public StatisticDuration Success { get; init; }

    /// <summary>Requests that failed, and their total time.</summary>
    [Id(6)] public StatisticDuration Fail { get; init; }

    /// <summary>Time requests spent queued.</summary>
    [Id(7)] public StatisticDuration Queue { get; init; }

    /// <summary>Time spent assembling batch inputs, counted for each request of the batch.</summary>
    [Id(8)] public StatisticDuration ComputeInput { get; init; }

    /// <summary>Time spent running the model, counted for each request of the batch.</summary>
    [Id(9)] public StatisticDuration ComputeInfer { get; init; }

    /// <summary>Time spent splitting outputs, counted for each request of the batch.</summary>
    [Id(10)] public StatisticDuration ComputeOutput { get; init; }

    /// <summary>Per batch size (in samples): how many batches of that size ran and their compute times.</summary>
    [Id(11)] public BatchStatistics[] Batches { get; init; } = [];

    /// <summary>Token positions run, for text models that pad sequences: real tokens and padding.</summary>
    [Id(12)] public TokenCounts Tokens { get; init; }

    /// <summary>Median latency (arrival to response) of the most recent successful requests, in milliseconds (0 if none).</summary>
    [Id(13)] public double RecentP50Ms { get; init; }

    /// <summary>99th-percentile latency of the most recent successful requests, in milliseconds (0 if none).</summary>
    [Id(14)] public double RecentP99Ms { get; init; }
}

/// <summary>A count and the total nanoseconds they took.</summary>
[GenerateSerializer, Immutable]
public readonly record struct StatisticDuration
{
    /// <summary>How many.</summary>
    [Id(0)] public long Count { get; init; }

    /// <summary>Total nanoseconds.</summary>
    [Id(1)] public long Nanoseconds { get; init; }
}

/// <summary>Triton's InferBatchStatistics: executions of one batch size.</summary>
[GenerateSerializer, Immutable]
public sealed record BatchStatistics
{
    /// <summary>The batch size in samples.</summary>
    [Id(0)] public required int BatchSize { get; init; }

    /// <summary>Input assembly: count = batches, nanoseconds = their total.</summary>
    [Id(1)] public StatisticDuration ComputeInput { get; init; }

    /// <summary>Model run.</summary>
    [Id(2)] public StatisticDuration ComputeInfer { get; init; }

    /// <summary>Output split.</summary>
    [Id(3)] public StatisticDuration ComputeOutput { get; init; }
}
