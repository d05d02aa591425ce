using System.Collections.Concurrent;
using System.Diagnostics;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// What this process's devices are doing: time spent running batches and memory held by loaded
/// models, written by the devices and read by the metrics exporter. Thread-safe.
/// </summary>
public sealed class DeviceUsageBoard
{
    private readonly ConcurrentDictionary<(string Silo, string Device), DeviceUsage> _devices = new();

    /// <summary>The usage record of a device, created on first use.</summary>
    public DeviceUsage For(string silo, string device, long memoryTotalBytes) =>
        _devices.GetOrAdd((silo, device), key => new DeviceUsage(key.Silo, key.Device, memoryTotalBytes));

    /// <summary>The usage record of a device, or null when it has not run or loaded anything yet.</summary>
    public DeviceUsage? Find(string silo, string device) => _devices.GetValueOrDefault((silo, device));

    /// <summary>Every device seen so far.</summary>
    public IEnumerable<DeviceUsage> Devices => _devices.Values;
}

/// <summary>One device's busy time and memory; <see cref="TakeUtilization"/> turns busy time into a fraction between readings.</summary>
public sealed class DeviceUsage(string silo, string device, long memoryTotalBytes)
{
    private readonly object _gate = new();
    private long _busyTicks;
    private long _lastBusyTicks;
    private long _lastReading = Stopwatch.GetTimestamp();
    private long _memoryUsedBytes;

    public string Silo { get; } = silo;

    public string Device { get; } = device;

    public double MemoryTotalBytes { get; } = memoryTotalBytes;

    /// <summary>When the record was created (a <see cref="Stopwatch"/> timestamp).</summary>
    public long CreatedTimestamp { get; } = Stopwatch.GetTimestamp();

    /// <summary>Total time the device ran batches.</summary>
    public TimeSpan BusyTime => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks));

    /// <summary>Bytes held by the models loaded on the device.</summary>
    public double MemoryUsedBytes => Interlocked.Read(ref _memoryUsedBytes);

    /// <summary>A batch kept the device busy for <paramref name="busy"/>.</summary>
    public void RecordBusy(TimeSpan busy) => Interlocked.Add(ref _busyTicks, busy.Ticks);

    /// <summary>Models were loaded (positive) or unloaded (negative).</summary>
    public void AddMemory(long bytes) => Interlocked.Add(ref _memoryUsedBytes, bytes);

    /// <summary>The fraction of time the device was busy since the previous reading (0..1).</summary>
    public double TakeUtilization()
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            var busy = Interlocked.Read(ref _busyTicks);
            var wall = Stopwatch.GetElapsedTime(_lastReading, now).Ticks;
            var fraction = wall > 0 ? (double)(busy - _lastBusyTicks) / wall : 0;
            (_lastReading, _lastBusyTicks) = (now, busy);
            return Math.Clamp(fraction, 0, 1);
        }
    }
}
