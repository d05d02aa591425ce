namespace Cluster.Inference.Devices;

/// <summary>Which devices a silo serves (configuration section <c>Cluster:Devices</c>).</summary>
public sealed class DeviceOptions
{
    /// <summary>
    /// CUDA devices: <c>auto</c> (every NVIDIA GPU the driver exposes), <c>none</c>, or a comma-separated
    /// list of device ids such as <c>0,1</c>.
    /// </summary>
    public string Cuda { get; set; } = "auto";

    /// <summary>Simulated devices to add (for capacity planning and placement tests).</summary>
    public List<SimulatedDeviceProfile> Simulated { get; set; } = [];
}

/// <summary>A modelled accelerator: latency = fixed + per-item cost, and a memory size.</summary>
public sealed class SimulatedDeviceProfile
{
    /// <summary>Profile name; devices are named <c>sim:&lt;profile&gt;:&lt;index&gt;</c>.</summary>
    public string Profile { get; set; } = "";

    /// <summary>How many devices of this profile.</summary>
    public int Count { get; set; } = 1;

    /// <summary>Latency of every batch, in microseconds.</summary>
    public int FixedLatencyMicroseconds { get; set; } = 1000;

    /// <summary>Added latency per batch item, in microseconds.</summary>
    public int PerItemMicroseconds { get; set; } = 100;

    /// <summary>Device memory in MiB.</summary>
    public int MemoryMiB { get; set; } = 16 * 1024;
}
