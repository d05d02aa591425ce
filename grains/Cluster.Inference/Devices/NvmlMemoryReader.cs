using System.Runtime.InteropServices;
using Cluster.Contracts.Devices;

namespace Cluster.Inference.Devices;

/// <summary>
/// Reads GPU memory, and the CUDA compute capability where the driver has <c>nvmlDeviceGetCudaComputeCapability</c>, through NVML
/// (<c>libnvidia-ml.so.1</c>, installed with every NVIDIA driver), loaded on first use. Where the library is absent (no driver,
/// a CPU-only machine) every read reports it unavailable with the loader's reason rather than throwing. NVML numbers devices in PCI bus order; set
/// <c>CUDA_DEVICE_ORDER=PCI_BUS_ID</c> on multi-GPU machines so CUDA's device ids follow the same order.
/// </summary>
public sealed unsafe class NvmlMemoryReader : IDeviceMemoryReader
{
    /// <summary>The library the NVIDIA driver installs.</summary>
    public const string DefaultLibrary = "libnvidia-ml.so.1";

    private const int Success = 0;
    private readonly Lazy<Functions?> _functions;
    private string _loadFailure = "";

    /// <summary>A reader of <paramref name="library"/>, loaded on the first read.</summary>
    public NvmlMemoryReader(string library = DefaultLibrary) => _functions = new(() => Load(library));

    /// <inheritdoc />
    public DeviceMemory? Read(int index, out string reason)
    {
        if (_functions.Value is not { } nvml)
        {
            reason = _loadFailure;
            return null;
        }

        nint handle;
        NvmlMemoryInfo info;
        var status = nvml.GetHandleByIndex((uint)index, &handle);
        if (status == Success)
        {
            status = nvml.GetMemoryInfo(handle, &info);
            if (status == Success)
            {
                reason = "";
                return new DeviceMemory(checked((long)info.Total), checked((long)info.Free), nvml.ComputeCapability(handle));
            }
        }

        reason = $"NVML could not read device {index}'s memory: {Marshal.PtrToStringUTF8(nvml.ErrorString(status))} (code {status})";
        return null;
    }

    private Functions? Load(string name)
    {
        if (!NativeLibrary.TryLoad(name, out var handle))
        {
            _loadFailure = $"{name} is not installed (no NVIDIA driver on this machine)";
            return null;
        }

        var functions = new Functions(
            (delegate* unmanaged<int>)NativeLibrary.GetExport(handle, "nvmlInit_v2"),
            (delegate* unmanaged<uint, nint*, int>)NativeLibrary.GetExport(handle, "nvmlDeviceGetHandleByIndex_v2"),
            (delegate* unmanaged<nint, NvmlMemoryInfo*, int>)NativeLibrary.GetExport(handle, "nvmlDeviceGetMemoryInfo"),
            (delegate* unmanaged<int, nint>)NativeLibrary.GetExport(handle, "nvmlErrorString"),
            NativeLibrary.TryGetExport(handle, "nvmlDeviceGetCudaComputeCapability", out var capability)
                ? (delegate* unmanaged<nint, int*, int*, int>)capability
                : null);
        var status = functions.Init();
        if (status != Success)
        {
            _loadFailure = $"NVML did not start: {Marshal.PtrToStringUTF8(functions.ErrorString(status))} (code {status})";
            return null;
        }

        // NVML stays initialised for the life of the process: memory is read again at every discovery.
        return functions;
    }

    private sealed class Functions(
        delegate* unmanaged<int> init,
        delegate* unmanaged<uint, nint*, int> getHandleByIndex,
        delegate* unmanaged<nint, NvmlMemoryInfo*, int> getMemoryInfo,
        delegate* unmanaged<int, nint> errorString,
        delegate* unmanaged<nint, int*, int*, int> getComputeCapability)
    {
        public int Init() => init();

        public int GetHandleByIndex(uint index, nint* handle) => getHandleByIndex(index, handle);

        public int GetMemoryInfo(nint device, NvmlMemoryInfo* info) => getMemoryInfo(device, info);

        public nint ErrorString(int status) => errorString(status);

        /// <summary>The device's compute capability; null where the driver lacks the call or cannot say.</summary>
        public ComputeCapability? ComputeCapability(nint device)
        {
            int major, minor;
            return getComputeCapability != null && getComputeCapability(device, &major, &minor) == Success ? new(major, minor) : null;
        }
    }

    /// <summary>NVML's <c>nvmlMemory_t</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }
}
