using Cluster.Contracts.Devices;
using Cluster.Inference.Devices;

namespace Cluster.Inference.Tests.Devices;

public sealed class DeviceDiscoveryTests
{
    [Fact]
    public void Discover_NoCuda_HasCpuAndSimulatedDevices()
    {
        var devices = DeviceDiscovery.Discover(new DeviceOptions
        {
            Cuda = "none",
            Simulated = [new SimulatedDeviceProfile { Profile = "t4", Count = 2, MemoryMiB = 16384 }],
        });
        Assert.Equal(["cpu:0", "sim:t4:0", "sim:t4:1"], devices.Select(d => d.Name));
        Assert.Equal("sim:t4", devices[1].Kind);
        Assert.Equal(16384L * 1024 * 1024, devices[1].MemoryTotalBytes);
        Assert.All(devices, d => Assert.Equal(DeviceHealth.Healthy, d.Health));
    }

    [Fact]
    public void Discover_StockProfiles_TakeTheirPublicFigures()
    {
        var devices = DeviceDiscovery.Discover(new DeviceOptions
        {
            Cuda = "none",
            Simulated = [new() { Profile = "t4" }, new() { Profile = "a10g" }, new() { Profile = "h100" }],
        });
        Assert.Equal([16L * 1024, 24L * 1024, 80L * 1024], devices.Skip(1).Select(d => d.MemoryTotalBytes / (1024 * 1024)));
        Assert.Equal([1.0, 2.0, 8.0], devices.Skip(1).Select(d => d.Speed));
        Assert.Equal([400, 200, 50], devices.Skip(1).Select(d => d.Simulation!.PerItemMicroseconds));
    }

    [Fact]
    public void Discover_ConfiguredFields_OverrideTheStockProfile()
    {
        var device = DeviceDiscovery.Discover(new DeviceOptions
        {
            Cuda = "none",
            Simulated = [new() { Profile = "h100", MemoryMiB = 94 * 1024, Speed = 10 }],
        })[1];
        Assert.Equal(new SimulatedDevice("h100", 400, 50, 94 * 1024, 10), device.Simulation);
        Assert.Equal(10, device.Speed);
    }

    [Fact]
    public void Discover_CustomProfile_DerivesSpeedFromItsPerItemCost()
    {
        var device = DeviceDiscovery.Discover(new DeviceOptions
        {
            Cuda = "none",
            Speed = 0.25,
            Simulated = [new() { Profile = "fast", FixedLatencyMicroseconds = 100, PerItemMicroseconds = 100 }],
        });
        Assert.Equal(0.25, device[0].Speed);
        Assert.Equal(new SimulatedDevice("fast", 100, 100, 16 * 1024, 4), device[1].Simulation);
        Assert.Equal(TimeSpan.FromMicroseconds(900), device[1].Simulation!.BatchLatency(8));
    }

    [Fact]
    public void CudaDeviceIds_Auto_ReadsDriverDeviceNodes()
    {
        var dev = Directory.CreateTempSubdirectory("dev-").FullName;
        foreach (var node in new[] { "nvidia1", "nvidia0", "nvidiactl", "nvidia-uvm" })
        {
            File.WriteAllText(Path.Combine(dev, node), "");
        }

        Assert.Equal([0, 1], DeviceDiscovery.CudaDeviceIds("auto", dev));
        Assert.Empty(DeviceDiscovery.CudaDeviceIds("auto", Path.Combine(dev, "missing")));
    }

    [Fact]
    public void CudaDeviceIds_List_ParsesIds() => Assert.Equal([0, 3], DeviceDiscovery.CudaDeviceIds("0, 3", "/dev"));

    [Fact]
    public void CudaDeviceIds_BadList_NamesTheSetting()
    {
        var error = Assert.Throws<ArgumentException>(() => DeviceDiscovery.CudaDeviceIds("0,gpu", "/dev"));
        Assert.Contains("Cluster:Devices:Cuda", error.Message, StringComparison.Ordinal);
        Assert.Contains("'gpu' is not a device id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProbeCuda_ReportsHealthFromOnnxRuntime_NeverBecomesCpu()
    {
        var device = DeviceDiscovery.ProbeCuda(0);
        Assert.Equal(("cuda:0", "cuda"), (device.Name, device.Kind));
        if (File.Exists("/dev/nvidia0"))
        {
            Assert.Equal(DeviceHealth.Healthy, device.Health);
        }
        else
        {
            Assert.Equal(DeviceHealth.Unhealthy, device.Health);
            Assert.StartsWith("CUDA execution provider unavailable for device 0: ", device.HealthReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NvmlMemoryReader_LibraryMissing_ReportsUnavailableWithTheLibraryName()
    {
        var reader = new NvmlMemoryReader("libnvidia-ml-missing.so.1");
        Assert.Null(reader.Read(0, out var reason));
        Assert.Equal("libnvidia-ml-missing.so.1 is not installed (no NVIDIA driver on this machine)", reason);
    }

    [Fact]
    public void Discover_CudaListedWithoutDriver_KeepsTheGpuWithUnknownMemory()
    {
        var reader = new NvmlMemoryReader("libnvidia-ml-missing.so.1");
        var gpu = DeviceDiscovery.Discover(new DeviceOptions { Cuda = "0" }, memory: reader)[0];
        Assert.Equal(("cuda:0", 0L, "unknown"), (gpu.Name, gpu.MemoryTotalBytes, gpu.MemorySource));
        Assert.Null(gpu.MemoryFreeBytes(0));
        Assert.Equal("libnvidia-ml-missing.so.1 is not installed (no NVIDIA driver on this machine); memory unknown, placement will not check it",
            gpu.MemoryNote);
    }

    [Fact]
    public void WithMemory_DriverReports_TotalAndWhatOthersHoldAsReserved()
    {
        var gpu = DeviceDiscovery.WithMemory(new DeviceDescriptor { Name = "cuda:1", Kind = "cuda", Index = 1 }, new FixedDriver(16_000, 15_000),
            fallbackMiB: 8);
        Assert.Equal((16_000L, 1_000L, "driver", (string?)null), (gpu.MemoryTotalBytes, gpu.MemoryReservedBytes, gpu.MemorySource, gpu.MemoryNote));
        Assert.Equal(11_000, gpu.MemoryFreeBytes(4_000));
        Assert.Equal(0, gpu.MemoryFreeBytes(20_000));
    }

    [Fact]
    public void WithMemory_NoDriverAndFallback_TakesTheFallbackAndSaysSo()
    {
        var gpu = DeviceDiscovery.WithMemory(new DeviceDescriptor { Name = "cuda:0", Kind = "cuda", Index = 0 },
            new NvmlMemoryReader("libnvidia-ml-missing.so.1"), fallbackMiB: 8192);
        Assert.Equal((8192L * 1024 * 1024, "fallback"), (gpu.MemoryTotalBytes, gpu.MemorySource));
        Assert.EndsWith("; taking the configured 8192 MiB", gpu.MemoryNote, StringComparison.Ordinal);
    }

    [Fact]
    public void WithMemory_DriverReportsComputeCapability_DeviceCarriesIt()
    {
        var gpu = DeviceDiscovery.WithMemory(new DeviceDescriptor { Name = "cuda:0", Kind = "cuda", Index = 0 },
            new FixedDriver(16_000, 15_000, new ComputeCapability(8, 6)), fallbackMiB: 0);
        var unknown = DeviceDiscovery.WithMemory(new DeviceDescriptor { Name = "cuda:0", Kind = "cuda", Index = 0 },
            new NvmlMemoryReader("libnvidia-ml-missing.so.1"), fallbackMiB: 8192);

        Assert.Equal(new ComputeCapability(8, 6), gpu.ComputeCapability);
        Assert.Null(unknown.ComputeCapability);
    }

    [Fact]
    public void Discover_SimulatedProfileDeclaringAComputeCapability_DevicesReportIt()
    {
        var devices = DeviceDiscovery.Discover(new DeviceOptions
        {
            Cuda = "none",
            Simulated = [new SimulatedDeviceProfile { Profile = "a100", Count = 2, ComputeCapability = "8.0" }, new SimulatedDeviceProfile { Profile = "t4" }],
        });

        (string, ComputeCapability?)[] expected =
            [("cpu:0", null), ("sim:a100:0", new ComputeCapability(8, 0)), ("sim:a100:1", new ComputeCapability(8, 0)), ("sim:t4:0", null)];
        Assert.Equal(expected, devices.Select(d => (d.Name, d.ComputeCapability)));
    }

    [Theory]
    [InlineData("8.0", 8, 0)]
    [InlineData("12.1", 12, 1)]
    public void ComputeCapability_Parses_MajorDotMinor(string text, int major, int minor)
    {
        Assert.True(ComputeCapability.TryParse(text, out var capability));
        Assert.Equal((major, minor, text), (capability.Major, capability.Minor, capability.ToString()));
        Assert.True(capability.Meets(new ComputeCapability(8, 0)));
        Assert.False(new ComputeCapability(7, 5).Meets(capability));
    }

    [Theory]
    [InlineData("8")]
    [InlineData("8.")]
    [InlineData("08.0")]
    [InlineData("8.0.1")]
    [InlineData(" 8.0")]
    [InlineData("")]
    public void ComputeCapability_NotMajorDotMinor_IsRefused(string text) => Assert.False(ComputeCapability.TryParse(text, out _));

    private sealed class FixedDriver(long total, long free, ComputeCapability? capability = null) : IDeviceMemoryReader
    {
        public DeviceMemory? Read(int index, out string reason)
        {
            reason = "";
            return new DeviceMemory(total, free, capability);
        }
    }
}
