namespace Cluster.Inference.Devices;

/// <summary>A modelled accelerator: batch latency = fixed + per-item cost, a memory size and a relative speed.</summary>
public sealed record SimulatedDevice(string Profile, int FixedLatencyMicroseconds, int PerItemMicroseconds, int MemoryMiB, double Speed)
{
    /// <summary>
    /// Stock profiles modelled on public figures. Memory is the card's (T4 16 GB, A10G 24 GB, H100 SXM 80 GB).
    /// Small-batch inference is mostly memory-bound, and memory bandwidth is 320, 600 and 3,350 GB/s, while
    /// dense FP16 tensor throughput grows faster still (65, 125, 990 TFLOPS); the relative speeds 1, 2 and 8
    /// sit between the two ratios, and the per-item cost is the T4's divided by the speed.
    /// </summary>
    public static IReadOnlyDictionary<string, SimulatedDevice> Stock { get; } = new Dictionary<string, SimulatedDevice>(StringComparer.Ordinal)
    {
        ["t4"] = new("t4", FixedLatencyMicroseconds: 1500, PerItemMicroseconds: 400, MemoryMiB: 16 * 1024, Speed: 1),
        ["a10g"] = new("a10g", FixedLatencyMicroseconds: 1000, PerItemMicroseconds: 200, MemoryMiB: 24 * 1024, Speed: 2),
        ["h100"] = new("h100", FixedLatencyMicroseconds: 400, PerItemMicroseconds: 50, MemoryMiB: 80 * 1024, Speed: 8),
    };

    /// <summary>How long a batch of <paramref name="items"/> takes.</summary>
    public TimeSpan BatchLatency(long items) => TimeSpan.FromMicroseconds(FixedLatencyMicroseconds + (PerItemMicroseconds * items));
}
