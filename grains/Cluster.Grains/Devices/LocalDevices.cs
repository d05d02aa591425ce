using Cluster.Inference.Devices;

namespace Cluster.Grains.Devices;

/// <summary>The devices this silo owns, discovered once at start.</summary>
public sealed class LocalDevices(IReadOnlyList<DeviceDescriptor> devices)
{
    /// <summary>Every device, healthy or not.</summary>
    public IReadOnlyList<DeviceDescriptor> All { get; } = devices;

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
}
