using System.Diagnostics;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// Turns each device's busy time into a busy fraction since this reader's previous reading (since the
/// device's first use on the first reading). Each reader keeps its own readings, so the admin console,
/// the load reports and the metrics exporter do not disturb each other. Not thread-safe.
/// </summary>
public sealed class BusyFractionReadings
{
    private readonly Dictionary<string, (long Timestamp, TimeSpan Busy)> _previous = [];

    /// <summary>Busy time over wall time since the previous reading of <paramref name="usage"/>'s device (0..1).</summary>
    public double Read(DeviceUsage? usage)
    {
        if (usage is null)
        {
            return 0;
        }

        var now = Stopwatch.GetTimestamp();
        var busy = usage.BusyTime;
        var (since, busyBefore) = _previous.GetValueOrDefault(usage.Device, (usage.CreatedTimestamp, TimeSpan.Zero));
        _previous[usage.Device] = (now, busy);
        var wall = Stopwatch.GetElapsedTime(since, now);
        return wall > TimeSpan.Zero ? Math.Clamp((busy - busyBefore) / wall, 0, 1) : 0;
    }
}
