using Cluster.Contracts.Devices;
using Cluster.Inference.Execution;

namespace Cluster.Inference.Devices;

/// <summary>A device found on this machine, as discovery saw it.</summary>
public sealed record DeviceDescriptor
{
    /// <summary>The device's name within its silo, e.g. <c>cpu:0</c>, <c>cuda:1</c>, <c>sim:t4:0</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>sim:&lt;profile&gt;</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Index within the kind (the CUDA device id for GPUs).</summary>
    public required int Index { get; init; }

    /// <summary>Health as found at discovery.</summary>
    public DeviceHealth Health { get; init; } = DeviceHealth.Healthy;

    /// <summary>Why the device is unhealthy.</summary>
    public string? HealthReason { get; init; }

    /// <summary>Device memory in bytes (0 when unknown).</summary>
    public long MemoryTotalBytes { get; init; }

    /// <summary>Memory other processes held when the device was discovered: never free for this silo's models.</summary>
    public long MemoryReservedBytes { get; init; }

    /// <summary>Where <see cref="MemoryTotalBytes"/> comes from: <c>driver</c>, <c>host</c>, <c>profile</c>, <c>fallback</c> or <c>unknown</c>.</summary>
    public string MemorySource { get; init; } = "host";

    /// <summary>Why the memory figure is a fallback or unknown; null when the driver reported it.</summary>
    public string? MemoryNote { get; init; }

    /// <summary>Memory free for this silo's models when <paramref name="heldBytes"/> are held by them; null when the total is unknown.</summary>
    public long? MemoryFreeBytes(long heldBytes) =>
        MemoryTotalBytes > 0 ? Math.Max(0, MemoryTotalBytes - MemoryReservedBytes - heldBytes) : null;

    /// <summary>The GPU's CUDA compute capability from the driver, or a simulated profile's configured one; null when unknown (and on CPUs).</summary>
    public ComputeCapability? ComputeCapability { get; init; }

    /// <summary>Relative speed (1 = a T4): placement and routing weigh the device's capacity by it.</summary>
    public double Speed { get; init; } = 1;

    /// <summary>For simulated devices, the modelled timing and memory.</summary>
    public SimulatedDevice? Simulation { get; init; }

    /// <summary>For simulated devices, the fault they inject (if any), shared by the models on the device.</summary>
    public SimulatedFault? Fault { get; init; }

    /// <summary>The machine's CPU as device <c>cpu:0</c>.</summary>
    public static DeviceDescriptor Cpu { get; } =
        new() { Name = "cpu:0", Kind = "cpu", Index = 0, MemoryTotalBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes };
}
