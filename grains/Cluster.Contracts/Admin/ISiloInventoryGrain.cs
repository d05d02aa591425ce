namespace Cluster.Contracts.Admin;

/// <summary>One silo's view of its own devices (keyed by the silo's name and placed on that silo).</summary>
public interface ISiloInventoryGrain : IGrainWithStringKey
{
    /// <summary>Each local device's status and how busy it was since the previous call.</summary>
    Task<DeviceView[]> GetDevicesAsync();
}
