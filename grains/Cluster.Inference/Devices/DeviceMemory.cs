namespace Cluster.Inference.Devices;

/// <summary>
/// A device's memory as its driver reports it: total bytes and bytes free (not held by any process); with the device's CUDA compute
/// capability when the driver reports that too.
/// </summary>
public sealed record DeviceMemory(long TotalBytes, long FreeBytes, Contracts.Devices.ComputeCapability? Capability = null);

/// <summary>Reads a CUDA device's memory from its driver.</summary>
public interface IDeviceMemoryReader
{
    /// <summary>The memory of CUDA device <paramref name="index"/>, or null with <paramref name="reason"/> when the driver cannot say.</summary>
    DeviceMemory? Read(int index, out string reason);
}
