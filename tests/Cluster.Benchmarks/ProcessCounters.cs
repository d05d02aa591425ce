using System.Diagnostics;
using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>What a server process has spent so far, read from outside it: CPU time and context switches.</summary>
internal static class ProcessCounters
{
    /// <summary>The context switches of every thread of <paramref name="process"/> so far (Linux's /proc; 0 elsewhere).</summary>
    public static long ContextSwitches(Process process)
    {
        var tasks = $"/proc/{process.Id}/task";
        if (!Directory.Exists(tasks))
        {
            return 0;
        }

        long switches = 0;
        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                        || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        switches += long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // The thread ended while read.
            }
        }

        return switches;
    }

    /// <summary>The CPU time <paramref name="process"/> has spent so far, all its threads.</summary>
    public static TimeSpan CpuTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }
}
