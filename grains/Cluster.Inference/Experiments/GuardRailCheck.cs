using System.Globalization;
using Cluster.Contracts.Experiments;

namespace Cluster.Inference.Experiments;

/// <summary>Whether an arm broke its experiment's guard rail over the window ending now.</summary>
public static class GuardRailCheck
{
    /// <summary>
    /// Why <paramref name="arm"/> must stop compared with <paramref name="control"/> under <paramref name="rail"/>, judged on
    /// the requests that ended in the window before <paramref name="now"/>; null when it may go on (or either side has too few requests there).
    /// </summary>
    public static string? Breach(GuardRail rail, ArmStatistics control, ArmStatistics arm, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(rail);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(arm);
        var start = now - rail.Window;
        var controlWindow = control.Samples.Where(s => s.At > start).ToArray();
        var armWindow = arm.Samples.Where(s => s.At > start).ToArray();
        if (controlWindow.Length < rail.MinRequests || armWindow.Length < rail.MinRequests)
        {
            return null;
        }

        var controlErrors = ErrorRate(controlWindow);
        var armErrors = ErrorRate(armWindow);
        if (armErrors - controlErrors > rail.MaxErrorRateIncrease)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"error rate {armErrors * 100:0.0}% against the control's {controlErrors * 100:0.0}% over the last {rail.Window.TotalSeconds:0} s " +
                    $"(limit: {rail.MaxErrorRateIncrease * 100:0.0} points above the control)");
        }

        var controlP99 = P99(controlWindow);
        var armP99 = P99(armWindow);
        return controlP99 > 0 && armP99 > controlP99 * rail.MaxP99Ratio
            ? string.Create(CultureInfo.InvariantCulture,
                $"p99 latency {armP99:0.##} ms against the control's {controlP99:0.##} ms over the last {rail.Window.TotalSeconds:0} s " +
                    $"(limit: {rail.MaxP99Ratio:0.##}x the control's)")
            : null;
    }

    private static double ErrorRate(LatencySample[] samples) => (double)samples.Count(s => s.Failed) / samples.Length;

    /// <summary>The p99 of the successful requests; 0 when none succeeded (the error rate judges those).</summary>
    private static double P99(LatencySample[] samples)
    {
        var latencies = samples.Where(s => !s.Failed).Select(s => s.Milliseconds).ToArray();
        Array.Sort(latencies);
        return latencies.Length == 0 ? 0 : ConfidenceIntervals.Quantile(latencies, 0.99);
    }
}
