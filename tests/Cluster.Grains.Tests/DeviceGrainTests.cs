using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests;

[Collection(TwoSiloCollection.Name)]
public sealed class DeviceGrainTests(TwoSiloFixture fixture)
{
    private InProcessCluster Cluster => fixture.Cluster;

    [Theory]
    [InlineData("silo-a/cpu:0")]
    [InlineData("silo-b/cpu:0")]
    [InlineData("silo-b/sim:t4:1")]
    public async Task GetStatus_DeviceGrainRunsOnTheSiloItsKeyNames(string key)
    {
        var status = await Cluster.Client.GetDeviceStatusAsync(key);
        Assert.Equal(key, status.Key);
        Assert.Equal(key[..key.IndexOf('/', StringComparison.Ordinal)], status.HostSilo);
        Assert.Equal(DeviceHealth.Healthy, status.Health);
    }

    [Fact]
    public async Task GetStatus_SiloNotInCluster_ThrowsNamingTheSilo()
    {
        var error = await Assert.ThrowsAsync<DeviceNotFoundException>(() => Cluster.Client.GetDeviceStatusAsync("silo-z/cpu:0"));
        Assert.Contains("Silo 'silo-z' named by grain key 'silo-z/cpu:0' is not an active member of the cluster; active silos: silo-a, silo-b.", error.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatus_DeviceNotOnSilo_ThrowsListingItsDevices()
    {
        var error = await Assert.ThrowsAsync<DeviceNotFoundException>(() => Cluster.Client.GetDeviceStatusAsync("silo-a/cpu:5"));
        Assert.Equal("Device 'cpu:5' is not a device of silo 'silo-a'; its devices are: cuda:0, cpu:0.", error.Message);
    }

    [Fact]
    public async Task CudaDevice_WithoutCudaRuntime_IsUnhealthyNotCpu()
    {
        if (File.Exists("/dev/nvidia0"))
        {
            return; // A machine with a GPU: the device is healthy, which the discovery tests check.
        }

        var status = await Cluster.Client.GetDeviceStatusAsync("silo-a/cuda:0");
        Assert.Equal("cuda", status.Kind);
        Assert.Equal(DeviceHealth.Unhealthy, status.Health);
        Assert.StartsWith("CUDA execution provider unavailable for device 0: ", status.HealthReason, StringComparison.Ordinal);

        var grain = fixture.Cluster.Connection.Grains.GetGrain<IDeviceGrain>("silo-a/cuda:0");
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => grain.LoadModelAsync("tiny_classifier", 1, "tiny_classifier/1/0"));
        Assert.StartsWith("Device 'silo-a/cuda:0' is unhealthy and cannot load 'tiny_classifier:1': CUDA execution provider unavailable", error.Message,
            StringComparison.Ordinal);
    }

    /// <remarks>
    /// Replicas of one version on one device share its sessions (a generation engine among them): a replica retiring
    /// while another starts there must not unload them under the other's requests.
    /// </remarks>
    [Fact]
    public async Task Unload_KeepsTheModelWhileAnotherReplicaHoldsIt()
    {
        var grain = fixture.Cluster.Connection.Grains.GetGrain<IDeviceGrain>("silo-b/sim:t4:1");
        await grain.LoadModelAsync("int64_scale", 1, "int64_scale/1/0");
        await grain.LoadModelAsync("int64_scale", 1, "int64_scale/1/1");

        await grain.UnloadModelAsync("int64_scale", 1, "int64_scale/1/0");
        await grain.UnloadModelAsync("int64_scale", 1, "int64_scale/1/2");
        Assert.Contains("int64_scale:1", (await grain.GetStatusAsync()).LoadedModels);

        await grain.UnloadModelAsync("int64_scale", 1, "int64_scale/1/1");
        Assert.DoesNotContain("int64_scale:1", (await grain.GetStatusAsync()).LoadedModels);
    }

    [Fact]
    public async Task SimulatedDevice_RunsTheModelledDeviceWithDeclaredShapes()
    {
        var grain = fixture.Cluster.Connection.Grains.GetGrain<IDeviceGrain>("silo-b/sim:t4:0");
        var result = await grain.RunBatchAsync("tiny_classifier", 1,
            [[TensorData.FromFloat32("features", new float[8], 2, 4)], [TensorData.FromFloat32("features", new float[4], 1, 4)]], ["probabilities"]);
        Assert.Equal([2L, 3L], result.Outputs[0][0].Shape);
        Assert.Equal(new float[6], result.Outputs[0][0].AsFloat32());
        Assert.Equal([1L, 3L], result.Outputs[1][0].Shape);
        var status = await grain.GetStatusAsync();
        Assert.Equal(("sim:t4", new ComputeCapability(7, 5)), (status.Kind, status.ComputeCapability));
        Assert.Equal(["tiny_classifier:1"], status.LoadedModels);
        Assert.Equal(16L * 1024 * 1024 * 1024, status.MemoryTotalBytes);
        Assert.True(status.MemoryUsedBytes > 0);
    }

    /// <summary>A replica runs its batches on its device's sessions without a turn of the device grain; the device still counts them.</summary>
    [Fact]
    public async Task ReplicaBatches_CountedByTheDeviceTheyRanOn()
    {
        var replica = fixture.Cluster.Connection.Grains.GetGrain<IModelBatcherGrain>("tiny_classifier:1/0");
        var request = new InferenceRequest { Inputs = [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)] };
        await replica.InferAsync(request);
        var device = (await replica.GetStatusAsync()).Device!;
        var before = (await Cluster.Client.GetDeviceStatusAsync(device)).BatchesRun;

        await replica.InferAsync(request);
        Assert.True((await Cluster.Client.GetDeviceStatusAsync(device)).BatchesRun > before, $"{device} did not count the replica's batch.");
    }
}
