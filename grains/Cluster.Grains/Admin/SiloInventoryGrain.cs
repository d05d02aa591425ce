using Cluster.Contracts.Admin;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Grains;
using Cluster.Grains.Devices;
using Cluster.Grains.Placement;
using Cluster.Inference.Telemetry;

namespace Cluster.Grains.Admin;

/// <summary>
/// One silo's devices, read in that silo's process (the grain is keyed and placed by silo name): each
/// device grain's status plus its busy fraction from the process's <see cref="DeviceUsageBoard"/>.
/// </summary>
[SiloNamePlacement]
public sealed class SiloInventoryGrain(LocalDevices localDevices, ILocalSiloDetails localSilo, DeviceUsageBoard usage) : Grain, ISiloInventoryGrain
{
    private readonly BusyFractionReadings _busy = new();

    /// <inheritdoc />
    public async Task<DeviceView[]> GetDevicesAsync()
    {
        var statuses = await Task.WhenAll(localDevices.All.Select(d =>
            GrainFactory.GetGrain<IDeviceGrain>(new DeviceKey(localSilo.Name, d.Name).ToString()).GetStatusAsync()));
        return Array.ConvertAll(statuses, status => new DeviceView
        {
            Status = status,
            BusyFraction = _busy.Read(usage.Find(localSilo.Name, DeviceKey.Parse(status.Key).Device)),
        });
    }
}
