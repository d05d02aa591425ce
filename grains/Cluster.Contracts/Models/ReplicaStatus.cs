namespace Cluster.Contracts.Models;

/// <summary>What a model replica reports about itself.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaStatus
{
    /// <summary>The replica's key, <c>{model}:{version}/{replica}</c>.</summary>
    [Id(0)] public required string Key { get; init; }

    /// <summary>The silo it runs on.</summary>
    [Id(1)] public required string Silo { get; init; }

    /// <summary>The device its batches run on (<c>{silo}/{device}</c>); null until ready.</summary>
    [Id(2)] public string? Device { get; init; }

    /// <summary>Whether its sessions are loaded and warmed up.</summary>
    [Id(3)] public bool Ready { get; init; }

    /// <summary>Requests waiting.</summary>
    [Id(4)] public int Queued { get; init; }

    /// <summary>Batches running.</summary>
    [Id(5)] public int RunningBatches { get; init; }

    /// <summary>The model file variant its device loaded (<c>fp32</c>, <c>fp16</c> or <c>int8</c>); null until ready.</summary>
    [Id(6)] public string? Variant { get; init; }
}
