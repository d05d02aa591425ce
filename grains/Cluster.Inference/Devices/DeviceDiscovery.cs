using System.Globalization;
using Cluster.Contracts.Devices;
using Cluster.Inference.Execution;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Devices;

/// <summary>
/// Finds this machine's devices: CUDA GPUs (each probed through ONNX Runtime's CUDA provider),
/// always <c>cpu:0</c>, and configured simulated devices. A GPU whose provider cannot load is kept,
/// marked unhealthy with ONNX Runtime's reason; it is never turned into a CPU device. A GPU's memory is read
/// from its driver (<see cref="NvmlMemoryReader"/>): the total, and what other processes hold at discovery as
/// reserved; where the driver cannot say, <see cref="DeviceOptions.CudaMemoryFallbackMiB"/> applies.
/// </summary>
public static class DeviceDiscovery
{
    /// <summary>Discovers devices according to <paramref name="options"/>.</summary>
    public static IReadOnlyList<DeviceDescriptor> Discover(DeviceOptions options, string nvidiaDeviceDirectory = "/dev", IDeviceMemoryReader? memory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var devices = new List<DeviceDescriptor>();
        var ids = CudaDeviceIds(options.Cuda, nvidiaDeviceDirectory);
        if (ids.Count > 0)
        {
            memory ??= new NvmlMemoryReader();
        }

        foreach (var id in ids)
        {
            devices.Add(WithMemory(ProbeCuda(id) with { Speed = options.Speed }, memory!, options.CudaMemoryFallbackMiB));
        }

        devices.Add(DeviceDescriptor.Cpu with { Speed = options.Speed });
        foreach (var profile in options.Simulated)
        {
            var simulated = profile.Resolve();
            for (var i = 0; i < profile.Count; i++)
            {
                var name = $"sim:{profile.Profile}:{i}";
                devices.Add(new DeviceDescriptor
                {
                    Name = name,
                    Kind = $"sim:{profile.Profile}",
                    Index = i,
                    MemoryTotalBytes = simulated.MemoryMiB * 1024L * 1024L,
                    MemorySource = "profile",
                    Speed = simulated.Speed,
                    ComputeCapability = profile.ComputeCapability is { } capability && ComputeCapability.TryParse(capability, out var parsed) ? parsed : null,
                    Simulation = simulated,
                    Fault = new SimulatedFault(name, profile.Fault),
                });
            }
        }

        return devices;
    }

    /// <summary>The CUDA device ids to use: parsed from the setting, or the driver's <c>/dev/nvidiaN</c> nodes for <c>auto</c>.</summary>
    public static IReadOnlyList<int> CudaDeviceIds(string setting, string nvidiaDeviceDirectory)
    {
        switch (setting.Trim().ToLowerInvariant())
        {
            case "none" or "":
                return [];
            case "auto":
                if (!Directory.Exists(nvidiaDeviceDirectory))
                {
                    return [];
                }

                var ids = new List<int>();
                foreach (var path in Directory.EnumerateFiles(nvidiaDeviceDirectory, "nvidia*"))
                {
                    if (int.TryParse(Path.GetFileName(path).AsSpan("nvidia".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    {
                        ids.Add(id);
                    }
                }

                ids.Sort();
                return ids;
            default:
                return setting.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                        ? id
                        : throw new ArgumentException($"Cluster:Devices:Cuda must be 'auto', 'none' or a list of device ids like '0,1'; '{s}' is not a " +
                            "device id."))
                    .ToArray();
        }
    }

    /// <summary>A CUDA device with its memory from the driver, else the fallback (0 MiB: unknown), with the driver's reason.</summary>
    public static DeviceDescriptor WithMemory(DeviceDescriptor device, IDeviceMemoryReader memory, int fallbackMiB)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(memory);
        if (memory.Read(device.Index, out var reason) is { } read)
        {
            return device with { MemoryTotalBytes = read.TotalBytes, MemoryReservedBytes = Math.Max(0, read.TotalBytes - read.FreeBytes),
                MemorySource = "driver", ComputeCapability = read.Capability };
        }

        return fallbackMiB > 0
            ? device with { MemoryTotalBytes = fallbackMiB * 1024L * 1024L, MemorySource = "fallback",
                MemoryNote = $"{reason}; taking the configured {fallbackMiB} MiB" }
            : device with { MemoryTotalBytes = 0, MemorySource = "unknown", MemoryNote = $"{reason}; memory unknown, placement will not check it" };
    }

    /// <summary>Asks ONNX Runtime's CUDA provider for device <paramref name="id"/>.</summary>
    public static DeviceDescriptor ProbeCuda(int id)
    {
        var device = new DeviceDescriptor { Name = $"cuda:{id}", Kind = "cuda", Index = id };
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(id);
            return device;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return device with { Health = DeviceHealth.Unhealthy, HealthReason = $"CUDA execution provider unavailable for device {id}: {e.Message}" };
        }
    }
}
