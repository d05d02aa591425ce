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

    /// <summary>Relative speed (1 = a T4): placement and routing weigh the device's capacity by it.</summary>
    public double Speed { get; init; } = 1;

    /// <summary>For simulated devices, the modelled timing and memory.</summary>
    public SimulatedDevice? Simulation { get; init; }

    /// <summary>For simulated devices, the fault they inject (if any), shared by the models on the device.</summary>
    public SimulatedFault? Fault { get; init; }

    /// <summary>The machine's CPU as device <c>cpu:0</c>.</summary>
    public static DeviceDescriptor Cpu { get; } = new() { Name = "cpu:0", Kind = "cpu", Index = 0, MemoryTotalBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes };
}
