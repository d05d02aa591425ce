using System.Diagnostics;
using HdrHistogram;

namespace Cluster.Benchmarks;

/// <summary>
/// An open-loop load: calls start at a fixed rate whatever the answers, so a saturated cluster shows up as
/// failed (timed out) calls and long latencies rather than a slower caller. A call counts as served when it
/// succeeds; its latency (microseconds, from its scheduled start) is recorded then.
/// </summary>
public sealed class OpenLoopLoad(double callsPerSecond, TimeSpan duration)
{
    /// <summary>Runs the load; returns what it measured.</summary>
    public async Task<OpenLoopResult> RunAsync(Func<Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var histogram = new LongHistogram(ClosedLoopLoad.HighestLatencyMicroseconds, 3);
        var total = (int)(callsPerSecond * duration.TotalSeconds);
        var calls = new Task[total];
        long served = 0;
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i / callsPerSecond * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            calls[i] = Task.Run(async () =>
            {
                try
                {
                    await call();
                    var microseconds = Stopwatch.GetElapsedTime(due).Ticks / TimeSpan.TicksPerMicrosecond;
                    lock (histogram)
                    {
                        histogram.RecordValue(Math.Clamp(microseconds, 1, ClosedLoopLoad.HighestLatencyMicroseconds));
                    }

                    Interlocked.Increment(ref served);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failures.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                }
            });
        }

        await Task.WhenAll(calls);
        return new OpenLoopResult(total, served, served / duration.TotalSeconds, histogram, new Dictionary<string, int>(failures));
    }
}

/// <summary>What an <see cref="OpenLoopLoad"/> measured.</summary>
public sealed record OpenLoopResult(long Offered, long Served, double ServedPerSecond, LongHistogram Latency, Dictionary<string, int> FailuresByType)
{
    public double ServedFraction => Offered == 0 ? 0 : (double)Served / Offered;

    public double P50Milliseconds => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(50) / 1000.0;

    public double P99Milliseconds => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(99) / 1000.0;
}
