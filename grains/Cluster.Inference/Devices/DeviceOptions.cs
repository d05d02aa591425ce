using Cluster.Contracts.Models;

namespace Cluster.Inference.Devices;

/// <summary>Which devices a silo serves (configuration section <c>Cluster:Devices</c>).</summary>
public sealed class DeviceOptions
{
    /// <summary>
    /// CUDA devices: <c>auto</c> (every NVIDIA GPU the driver exposes), <c>none</c>, or a comma-separated
    /// list of device ids such as <c>0,1</c>.
    /// </summary>
    public string Cuda { get; set; } = "auto";

    /// <summary>Relative speed of this silo's CUDA and CPU devices (1 = a T4); simulated devices carry their own.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>
    /// Memory in MiB assumed for a CUDA device whose driver cannot report it (NVML missing or failing); 0 leaves it
    /// unknown, and placement then never excludes the device for lack of memory. Either way a warning names the device.
    /// </summary>
    public int CudaMemoryFallbackMiB { get; set; }

    /// <summary>CUDA execution provider settings for every model on this silo's GPUs; a model's <c>cuda</c> settings override them field by field.</summary>
    public CudaProviderSettings CudaProvider { get; set; } = new();

    /// <summary>Simulated devices to add (for capacity planning and placement tests).</summary>
    public List<SimulatedDeviceProfile> Simulated { get; set; } = [];

    /// <summary>
    /// A batch running longer than this counts as a hung device: the device is quarantined and the batch retried elsewhere.
    /// It counts from when a session takes the batch, not while the batch waits for one; batches still waiting then are given up and never run.
    /// </summary>
    public int BatchTimeoutMilliseconds { get; set; } = 60_000;

    /// <summary>How often a quarantined device is probed (one warm-up request) to return it to service.</summary>
    public int ProbeIntervalMilliseconds { get; set; } = 5_000;
}

/// <summary>
/// Simulated devices as configured: a stock profile (<c>t4</c>, <c>a10g</c>, <c>h100</c>) takes its figures
/// from <see cref="SimulatedDevice.Stock"/>; any field set here overrides them, and other profile names
/// take the T4's figures for the fields left out.
/// </summary>
public sealed class SimulatedDeviceProfile
{
    /// <summary>Profile name; devices are named <c>sim:&lt;profile&gt;:&lt;index&gt;</c>.</summary>
    public string Profile { get; set; } = "";

    /// <summary>How many devices of this profile.</summary>
    public int Count { get; set; } = 1;

    /// <summary>Latency of every batch, in microseconds.</summary>
    public int? FixedLatencyMicroseconds { get; set; }

    /// <summary>Added latency per batch item, in microseconds.</summary>
    public int? PerItemMicroseconds { get; set; }

    /// <summary>Device memory in MiB.</summary>
    public int? MemoryMiB { get; set; }

    /// <summary>Relative speed (1 = a T4); placement and routing weigh the device by it. Defaults to the T4's per-item cost over this one's.</summary>
    public double? Speed { get; set; }

    /// <summary>The CUDA compute capability the devices report (<c>major.minor</c>, such as <c>8.0</c>); unset leaves it unknown.</summary>
    public string? ComputeCapability { get; set; }

    /// <summary>An injected fault, to test how the cluster survives a failing device.</summary>
    public SimulatedFaultSettings Fault { get; set; } = new();

    /// <summary>The modelled device: stock figures with the configured fields applied.</summary>
    public SimulatedDevice Resolve()
    {
        var stock = SimulatedDevice.Stock.GetValueOrDefault(Profile) ?? SimulatedDevice.Stock["t4"] with { Profile = Profile };
        var perItem = PerItemMicroseconds ?? stock.PerItemMicroseconds;
        return new SimulatedDevice(
            Profile,
            FixedLatencyMicroseconds ?? stock.FixedLatencyMicroseconds,
            perItem,
            MemoryMiB ?? stock.MemoryMiB,
            Speed ?? (PerItemMicroseconds is null ? stock.Speed : (double)SimulatedDevice.Stock["t4"].PerItemMicroseconds / Math.Max(1, perItem)));
    }
}

/// <summary>
/// A fault each device of a simulated profile injects into its batches (warm-ups and health probes count
/// as batches): from batch <see cref="AfterBatches"/> + 1, for <see cref="ForBatches"/> batches, each
/// with <see cref="Probability"/>.
/// </summary>
public sealed class SimulatedFaultSettings
{
    /// <summary><c>none</c>, <c>throw</c> (the batch fails) or <c>hang</c> (the batch takes <see cref="HangMilliseconds"/>).</summary>
    public string Mode { get; set; } = "none";

    /// <summary>Batches that run normally before the fault starts.</summary>
    public int AfterBatches { get; set; }

    /// <summary>Batches the fault lasts; 0 for ever.</summary>
    public int ForBatches { get; set; }

    /// <summary>Chance that a batch in the fault window fails (seeded per device, so runs repeat).</summary>
    public double Probability { get; set; } = 1;

    /// <summary>How long a hung batch blocks its session.</summary>
    public int HangMilliseconds { get; set; } = 60_000;

    /// <summary>Problems, each naming its key under <paramref name="prefix"/>.</summary>
    public IEnumerable<string> Validate(string prefix)
    {
        if (Mode is not ("none" or "throw" or "hang"))
        {
            yield return $"{prefix}:Mode '{Mode}' must be 'none', 'throw' or 'hang'.";
        }

        if (AfterBatches < 0 || ForBatches < 0 || Probability is < 0 or > 1 || HangMilliseconds < 0)
        {
            yield return $"{prefix} needs AfterBatches >= 0, ForBatches >= 0, Probability in 0..1 and HangMilliseconds >= 0.";
        }
    }
}
