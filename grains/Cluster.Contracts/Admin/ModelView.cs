using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Admin;

/// <summary>A model as the operator sees it: its catalogue entry (with the operator's policy, split and bounds applied) and each version's state.</summary>
[GenerateSerializer, Immutable]
public sealed record ModelView
{
    /// <summary>The catalogue entry.</summary>
    [Id(0)] public required ModelDescriptor Model { get; init; }

    /// <summary>Every version found, newest first.</summary>
    [Id(1)] public required VersionView[] Versions { get; init; }
}

/// <summary>One version of a model.</summary>
[GenerateSerializer, Immutable]
public sealed record VersionView
{
    /// <summary>The version number.</summary>
    [Id(0)] public required long Version { get; init; }

    /// <summary>Whether it serves.</summary>
    [Id(1)] public required bool Ready { get; init; }

    /// <summary>Why it does not serve (unloaded, not served by the version policy, load error); empty when ready.</summary>
    [Id(2)] public string Reason { get; init; } = "";

    /// <summary>Its share of versionless traffic in percent; null when the model has no split.</summary>
    [Id(3)] public int? SplitPercent { get; init; }

    /// <summary>Its replicas (none when it does not serve).</summary>
    [Id(4)] public ReplicaView[] Replicas { get; init; } = [];
}

/// <summary>A model replica: where it runs, its queue and its recent traffic.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaView
{
    /// <summary>The replica's key, <c>{model}:{version}/{replica}</c>.</summary>
    [Id(0)] public required string Key { get; init; }

    /// <summary>The silo it runs on.</summary>
    [Id(1)] public string Silo { get; init; } = "";

    /// <summary>The device its batches run on; null until it is ready.</summary>
    [Id(2)] public string? Device { get; init; }

    /// <summary>The model file variant it serves (<c>fp32</c>, <c>fp16</c> or <c>int8</c>); null until it is ready.</summary>
    [Id(15)] public string? Variant { get; init; }

    /// <summary>Whether it is loaded and warmed up.</summary>
    [Id(3)] public bool Ready { get; init; }

    /// <summary>Requests waiting.</summary>
    [Id(4)] public int Queued { get; init; }

    /// <summary>Requests that succeeded since the replica started.</summary>
    [Id(5)] public long Succeeded { get; init; }

    /// <summary>Requests that failed since the replica started.</summary>
    [Id(6)] public long Failed { get; init; }

    /// <summary>Requests per second since the previous reading (0 on the first).</summary>
    [Id(7)] public double RequestsPerSecond { get; init; }

    /// <summary>Median latency of the recent successful requests, ms.</summary>
    [Id(8)] public double P50Ms { get; init; }

    /// <summary>99th-percentile latency of the recent successful requests, ms.</summary>
    [Id(9)] public double P99Ms { get; init; }

    /// <summary>Batches executed per batch size, smallest size first.</summary>
    [Id(10)] public BatchCount[] BatchSizes { get; init; } = [];

    /// <summary>Why the replica could not be read or started; null when fine.</summary>
    [Id(11)] public string? Error { get; init; }

    /// <summary>Token positions run, for text models: real tokens and padding.</summary>
    [Id(12)] public TokenCounts Tokens { get; init; }

    /// <summary>A generation replica's engine: tokens, latencies and cache use (null for other models).</summary>
    [Id(13)] public GenerationReplicaStatistics? Generation { get; init; }

    /// <summary>Tokens generated per second since the previous reading (generation replicas).</summary>
    [Id(14)] public double TokensPerSecond { get; init; }
}

/// <summary>How many batches of one size ran.</summary>
[GenerateSerializer, Immutable]
public sealed record BatchCount
{
    /// <summary>Samples per batch.</summary>
    [Id(0)] public required int BatchSize { get; init; }

    /// <summary>Batches of that size.</summary>
    [Id(1)] public required long Batches { get; init; }
}
