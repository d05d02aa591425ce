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
}
