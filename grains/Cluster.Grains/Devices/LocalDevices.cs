using System.Collections.Concurrent;
using Cluster.Contracts.Devices;
using Cluster.Inference.Devices;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Devices;

/// <summary>
/// The devices this silo owns, discovered once at start, and which of them are quarantined after a fault
/// (read by the replicas choosing a device, written by the device grains). Thread-safe.
/// </summary>
public sealed partial class LocalDevices(IReadOnlyList<DeviceDescriptor> devices, DeviceOptions? options = null)
{
    private readonly ConcurrentDictionary<string, string> _quarantined = new(StringComparer.Ordinal);

    /// <summary>Every device, healthy or not.</summary>
    public IReadOnlyList<DeviceDescriptor> All { get; } = devices;

    /// <summary>The devices' settings: batch timeout and probe interval.</summary>
    public DeviceOptions Options { get; } = options ?? new DeviceOptions();

    /// <summary>Discovers the devices per <paramref name="options"/>, warning about each whose memory the driver could not report.</summary>
    public static LocalDevices Discover(DeviceOptions options, ILogger logger)
    {
        var devices = DeviceDiscovery.Discover(options);
        foreach (var device in devices)
        {
            if (device.MemoryNote is { } note)
            {
                LogMemoryNotFromDriver(logger, device.Name, note);
            }
        }

        return new LocalDevices(devices, options);
    }

    /// <summary>The device with the given name, or null.</summary>
    public DeviceDescriptor? Find(string name)
    {
        foreach (var device in All)
        {
            if (device.Name == name)
            {
                return device;
            }
        }

        return null;
    }

    /// <summary>The device's health now: as discovered, or unhealthy with the fault's reason while quarantined.</summary>
    public (DeviceHealth Health, string? Reason) HealthOf(DeviceDescriptor device) =>
        _quarantined.TryGetValue(device.Name, out var reason) ? (DeviceHealth.Unhealthy, reason) : (device.Health, device.HealthReason);

    /// <summary>Takes a device out of service; false when it already was.</summary>
    public bool Quarantine(string device, string reason) => _quarantined.TryAdd(device, reason);

    /// <summary>Returns a device to service; false when it was not quarantined.</summary>
    public bool Restore(string device) => _quarantined.TryRemove(device, out _);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device}: {Note}")]
    private static partial void LogMemoryNotFromDriver(ILogger logger, string device, string note);
}
