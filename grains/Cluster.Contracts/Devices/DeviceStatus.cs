namespace Cluster.Contracts.Devices;

/// <summary>What a device reports about itself.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceStatus
{
    /// <summary>The device grain's key, <c>{silo}/{device}</c>.</summary>
    [Id(0)] public required string Key { get; init; }

    /// <summary>The silo whose process hosts the device grain.</summary>
    [Id(1)] public required string HostSilo { get; init; }

    /// <summary>The device kind: <c>cpu</c>, <c>cuda</c> or <c>sim:&lt;profile&gt;</c>.</summary>
    [Id(2)] public required string Kind { get; init; }

    /// <summary>Whether the device can run models.</summary>
    [Id(3)] public required DeviceHealth Health { get; init; }

    /// <summary>Why the device is unhealthy; null when healthy.</summary>
    [Id(4)] public string? HealthReason { get; init; }

    /// <summary>Device memory in bytes (0 when unknown).</summary>
    [Id(5)] public long MemoryTotalBytes { get; init; }

    /// <summary>Bytes taken by the loaded models' weights (an estimate from the ONNX file sizes).</summary>
    [Id(6)] public long MemoryUsedBytes { get; init; }

    /// <summary>Loaded model versions as <c>model:version</c>.</summary>
    [Id(7)] public string[] LoadedModels { get; init; } = [];

    /// <summary>Batches run since the device started.</summary>
    [Id(8)] public long BatchesRun { get; init; }

    /// <summary>Where the memory figure comes from: <c>driver</c>, <c>host</c>, <c>profile</c>, <c>fallback</c> or <c>unknown</c>.</summary>
    [Id(9)] public string MemorySource { get; init; } = "";

    /// <summary>Memory other processes held when the device was discovered.</summary>
    [Id(10)] public long MemoryReservedBytes { get; init; }

    /// <summary>The configured relative speed (1 = a T4): placement's starting guess until a model's speed is measured.</summary>
    [Id(11)] public double Speed { get; init; } = 1;

    /// <summary>Measured throughput of each loaded model version (<c>model:version</c>), in items per second of run time.</summary>
    [Id(12)] public Dictionary<string, double> MeasuredItemsPerSecond { get; init; } = [];

    /// <summary>The file variant (<c>fp32</c>, <c>fp16</c>, <c>int8</c>) each loaded model version (<c>model:version</c>) serves.</summary>
    [Id(13)] public Dictionary<string, string> Variants { get; init; } = [];

    /// <summary>The GPU's CUDA compute capability, from the driver or a simulated profile's configuration; null when unknown (and on CPUs).</summary>
    [Id(14)] public ComputeCapability? ComputeCapability { get; init; }
}

/// <summary>Device health.</summary>
public enum DeviceHealth
{
    /// <summary>Runs models.</summary>
    Healthy,

    /// <summary>Cannot run models; see <see cref="DeviceStatus.HealthReason"/>.</summary>
    Unhealthy,
}
