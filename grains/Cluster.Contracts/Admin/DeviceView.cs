using Cluster.Contracts.Devices;

namespace Cluster.Contracts.Admin;

/// <summary>A device's status and how busy it is.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceView
{
    /// <summary>Kind, memory, health and loaded models, as the device reports them.</summary>
    [Id(0)] public required DeviceStatus Status { get; init; }

    /// <summary>The fraction of time it ran batches since the previous reading (0..1).</summary>
    [Id(1)] public double BusyFraction { get; init; }
}
