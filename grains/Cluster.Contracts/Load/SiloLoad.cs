namespace Cluster.Contracts.Load;

/// <summary>What one silo reports about itself every <see cref="IClusterLoadGrain.ReportInterval"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloLoad
{
    /// <summary>The silo's name.</summary>
    [Id(0)] public required string Silo { get; init; }

    /// <summary>Its Orleans silo metadata (cloud, region, zone, cost_per_hour, ...).</summary>
    [Id(1)] public Dictionary<string, string> Metadata { get; init; } = [];

    /// <summary>Its devices.</summary>
    [Id(2)] public DeviceLoad[] Devices { get; init; } = [];

    /// <summary>The model replicas active on it.</summary>
    [Id(3)] public ReplicaLoad[] Replicas { get; init; } = [];

    /// <summary>When the silo made the report.</summary>
    [Id(4)] public DateTimeOffset ReportedAt { get; init; }
}

/// <summary>One device's load.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceLoad
{
    /// <summary>The device's name within its silo, e.g. <c>sim:t4:0</c>.</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>sim:&lt;profile&gt;</c>.</summary>
    [Id(1)] public required string Kind { get; init; }

    /// <summary>Relative speed (1 = a T4).</summary>
    [Id(2)] public double Speed { get; init; } = 1;

    /// <summary>Whether it can run models.</summary>
    [Id(3)] public bool Healthy { get; init; }

    /// <summary>The fraction of time it ran batches since the silo's previous report (0..1).</summary>
    [Id(4)] public double BusyFraction { get; init; }

    /// <summary>Requests queued in the replicas that run on it.</summary>
    [Id(5)] public int QueuedRequests { get; init; }

    /// <summary>Batches running on it.</summary>
    [Id(6)] public int RunningBatches { get; init; }

    /// <summary>Its memory; 0 when unknown (the driver could not report it and no fallback is configured).</summary>
    [Id(7)] public long MemoryTotalBytes { get; init; }

    /// <summary>Memory neither held by this silo's loaded models nor, when the device was discovered, by other processes.</summary>
    [Id(8)] public long MemoryFreeBytes { get; init; }
}

/// <summary>One model replica's load.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaLoad
{
    /// <summary>The replica's key, <c>{model}:{version}/{replica}</c>.</summary>
    [Id(0)] public required string Key { get; init; }

    /// <summary>The model.</summary>
    [Id(1)] public required string Model { get; init; }

    /// <summary>The version.</summary>
    [Id(2)] public long Version { get; init; }

    /// <summary>The device it runs on, within its silo; empty while it starts.</summary>
    [Id(3)] public string Device { get; init; } = "";

    /// <summary>Relative capacity: its device's speed, shared with the other replicas on that device that have work queued or running.</summary>
    [Id(4)] public double Capacity { get; init; } = 1;

    /// <summary>Loaded and warmed up, and not retiring: it takes new requests.</summary>
    [Id(5)] public bool Accepting { get; init; }

    /// <summary>Requests waiting.</summary>
    [Id(6)] public int Queued { get; init; }

    /// <summary>Batches running.</summary>
    [Id(7)] public int RunningBatches { get; init; }

    /// <summary>Finishing its queue before it stops; neither accepting nor starting.</summary>
    [Id(8)] public bool Retiring { get; init; }

    /// <summary>
    /// Its model's measured throughput on its device (items per second of run time, from warm-up and then live batches),
    /// shared like <see cref="Capacity"/>; 0 until measured.
    /// </summary>
    [Id(9)] public double MeasuredCapacity { get; init; }
}

/// <summary>Every active silo's latest report.</summary>
[GenerateSerializer, Immutable]
public sealed record ClusterLoad
{
    /// <summary>The reports, by silo name.</summary>
    [Id(0)] public SiloLoad[] Silos { get; init; } = [];

    /// <summary>
    /// False while the board's grain is younger than a report's lifetime (it was just activated, e.g. after the silo
    /// holding it stopped), so some live silos may not have reported to it yet: routers keep their last table and
    /// the autoscaler waits rather than read a missing silo's replicas as gone.
    /// </summary>
    [Id(1)] public bool Complete { get; init; } = true;

    /// <summary>
    /// Silos membership has declared dead without having seen them leave gracefully (and that no active silo of
    /// the same name replaced): a request in flight to a replica there will get no answer, so clients stop waiting for one.
    /// </summary>
    [Id(2)] public string[] DeadSilos { get; init; } = [];

    /// <summary>An empty view.</summary>
    public static ClusterLoad Empty { get; } = new();
}
