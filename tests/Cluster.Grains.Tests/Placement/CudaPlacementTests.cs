using Cluster.Contracts.Load;
using Cluster.Contracts.Models;
using Cluster.Grains.Placement;
using Cluster.Inference.Devices;

namespace Cluster.Grains.Tests.Placement;

/// <summary>Placement over silos with CUDA devices whose memory came from the driver, a fallback, or nowhere.</summary>
public sealed class CudaPlacementTests
{
    private const long GiB = 1L << 30;
    private static readonly ModelConfig AnyDevice = new();
    private static readonly HashSet<string> NoneDraining = [];

    [Fact]
    public void Rank_GpuWithDriverMemory_TakesTheReplicaOnItsGpu()
    {
        var gpu = Gpu(total: 16 * GiB, reservedByOthers: 2 * GiB);
        var ranked = ReplicaPlacementScoring.Rank(Request(memory: 9 * GiB), [Silo("gpu-silo", gpu, speed: 2, heldByModels: 4 * GiB), CpuSilo("cpu-silo")],
            NoneDraining);
        Assert.Equal(["gpu-silo", "cpu-silo"], ranked.Select(r => r.Silo));
        Assert.Equal(2, ranked[0].Speed);
    }

    [Fact]
    public void Rank_FullGpu_FallsBackToTheSilosCpu()
    {
        var gpu = Gpu(total: 16 * GiB, reservedByOthers: 2 * GiB);
        var ranked = ReplicaPlacementScoring.Rank(Request(memory: 11 * GiB), [Silo("gpu-silo", gpu, speed: 8, heldByModels: 4 * GiB)], NoneDraining);

        // 16 - 2 held by other processes - 4 held by our models leaves 10 GiB: the CPU (speed 1) takes the replica.
        Assert.Equal(1, Assert.Single(ranked).Speed);
    }

    [Fact]
    public void Rank_GpuOnlyModelAndFullGpu_NoSilo()
    {
        var gpu = Gpu(total: 16 * GiB, reservedByOthers: 0);
        Assert.Empty(
            ReplicaPlacementScoring.Rank(Request(memory: 2 * GiB, kinds: ["cuda"]), [Silo("gpu-silo", gpu, speed: 8, heldByModels: 15 * GiB)], NoneDraining));
    }

    [Fact]
    public void Rank_GpuWithUnknownMemory_IsNeverExcludedForMemory()
    {
        var unknown = DeviceDiscovery.WithMemory(CudaDevice(), new NoDriver(), fallbackMiB: 0);
        var ranked = ReplicaPlacementScoring.Rank(Request(memory: 40 * GiB), [Silo("gpu-silo", unknown, speed: 4), CpuSilo("cpu-silo")], NoneDraining);
        Assert.Equal(["gpu-silo", "cpu-silo"], ranked.Select(r => r.Silo));
        Assert.Equal(4, ranked[0].Speed);
    }

    [Fact]
    public void Rank_GpuWithFallbackMemory_IsJudgedByTheFallback()
    {
        var fallback = DeviceDiscovery.WithMemory(CudaDevice(), new NoDriver(), fallbackMiB: 8 * 1024);
        Assert.Equal(4, ReplicaPlacementScoring.Rank(Request(memory: 6 * GiB), [Silo("gpu-silo", fallback, speed: 4)], NoneDraining)[0].Speed);
        Assert.Equal(1, ReplicaPlacementScoring.Rank(Request(memory: 9 * GiB), [Silo("gpu-silo", fallback, speed: 4)], NoneDraining)[0].Speed);
    }

    private static DeviceDescriptor CudaDevice() => new() { Name = "cuda:0", Kind = "cuda", Index = 0 };

    private static DeviceDescriptor Gpu(long total, long reservedByOthers) =>
        DeviceDiscovery.WithMemory(CudaDevice(), new Driver(total, total - reservedByOthers), fallbackMiB: 0);

    private static PlacementRequest Request(long memory, string[]? kinds = null) =>
        new("m", 1, kinds is null ? AnyDevice : new ModelConfig { DeviceKinds = kinds }, memory);

    /// <summary>A silo with <paramref name="gpu"/>, on which its models hold <paramref name="heldByModels"/>, and a CPU; free memory as its load report
    /// computes it.</summary>
    private static SiloLoad Silo(string name, DeviceDescriptor gpu, double speed, long heldByModels = 0) => new()
    {
        Silo = name,
        Devices =
        [
            new DeviceLoad { Name = "cuda:0", Kind = "cuda", Speed = speed, Healthy = true, MemoryTotalBytes = gpu.MemoryTotalBytes,
                MemoryFreeBytes = gpu.MemoryFreeBytes(heldByModels) ?? 0 },
            Cpu(),
        ],
    };

    private static SiloLoad CpuSilo(string name) => new() { Silo = name, Devices = [Cpu()] };

    private static DeviceLoad Cpu() =>
        new() { Name = "cpu:0", Kind = "cpu", Speed = 1, Healthy = true, MemoryTotalBytes = 64 * GiB, MemoryFreeBytes = 64 * GiB };

    private sealed class Driver(long total, long free) : IDeviceMemoryReader
    {
        public DeviceMemory? Read(int index, out string reason)
        {
            reason = "";
            return new DeviceMemory(total, free);
        }
    }

    private sealed class NoDriver : IDeviceMemoryReader
    {
        public DeviceMemory? Read(int index, out string reason)
        {
            reason = "libnvidia-ml.so.1 is not installed";
            return null;
        }
    }
}
