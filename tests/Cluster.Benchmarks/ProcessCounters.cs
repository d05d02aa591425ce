using System.Diagnostics;
using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>What a server process has spent so far, read from outside it: CPU time and context switches.</summary>
internal static class ProcessCounters
{
    /// <summary>The context switches of each thread of <paramref name="process"/> so far, by thread id (Linux's /proc; none elsewhere).</summary>
    public static Dictionary<int, long> ContextSwitches(Process process)
    {
        var tasks = $"/proc/{process.Id}/task";
        var switches = new Dictionary<int, long>();
        if (!Directory.Exists(tasks))
        {
            return switches;
        }

        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                long count = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                        || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        count += long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
                    }
                }

                switches[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = count;
            }
            catch (IOException)
            {
                // The thread ended while read.
            }
        }

        return switches;
    }

    /// <summary>
    /// The context switches between two readings of <see cref="ContextSwitches"/>: each thread's since the first (all of a thread's that
    /// started since, or that took the id of one that ended: its count below the first reading). A thread that ended between them is
    /// not in the second, so its switches are left out, never subtracted.
    /// </summary>
    public static long SwitchesBetween(Dictionary<int, long> before, Dictionary<int, long> after) =>
        after.Sum(thread => before.TryGetValue(thread.Key, out var earlier) && earlier <= thread.Value ? thread.Value - earlier : thread.Value);

    /// <summary>The CPU time <paramref name="process"/> has spent so far, all its threads.</summary>
    public static TimeSpan CpuTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }
}
