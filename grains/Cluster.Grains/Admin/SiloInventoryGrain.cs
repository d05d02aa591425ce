using System.Diagnostics;
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
    /// <summary>The previous reading per device: when, and the busy time then.</summary>
    private readonly Dictionary<string, (long Timestamp, TimeSpan Busy)> _previous = [];

    /// <inheritdoc />
    public async Task<DeviceView[]> GetDevicesAsync()
    {
        var statuses = await Task.WhenAll(localDevices.All.Select(d =>
            GrainFactory.GetGrain<IDeviceGrain>(new DeviceKey(localSilo.Name, d.Name).ToString()).GetStatusAsync()));
        return Array.ConvertAll(statuses, status => new DeviceView { Status = status, BusyFraction = BusyFraction(status) });
    }

    /// <summary>Busy time over wall time since the previous reading (since the device's first use on the first reading).</summary>
    private double BusyFraction(DeviceStatus status)
    {
        var device = DeviceKey.Parse(status.Key).Device;
        if (usage.Find(localSilo.Name, device) is not { } record)
        {
            return 0;
        }

        var now = Stopwatch.GetTimestamp();
        var busy = record.BusyTime;
        var (since, busyBefore) = _previous.GetValueOrDefault(device, (record.CreatedTimestamp, TimeSpan.Zero));
        _previous[device] = (now, busy);
        var wall = Stopwatch.GetElapsedTime(since, now);
        return wall > TimeSpan.Zero ? Math.Clamp((busy - busyBefore) / wall, 0, 1) : 0;
    }
}
