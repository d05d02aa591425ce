using System.Diagnostics;
using HdrHistogram;

namespace Cluster.Benchmarks;

/// <summary>
/// A closed-loop load: <see cref="Concurrency"/> callers, each issuing its next call as soon as the
/// previous one returns. Every caller runs an unmeasured warm-up, then the measured period; a call
/// counts (and its latency is recorded, in microseconds) when it completes inside the measured period.
/// </summary>
public sealed class ClosedLoopLoad(int concurrency, TimeSpan warmup, TimeSpan duration, int samplesPerCall = 1)
{
    /// <summary>Latencies above this (one minute, in microseconds) are recorded as this value.</summary>
    public const long HighestLatencyMicroseconds = 60_000_000;

    /// <summary>The number of callers.</summary>
    public int Concurrency { get; } = concurrency;

    /// <summary>Runs the load; <paramref name="call"/> gets the caller's index. A failing call fails the run.</summary>
    public async Task<LoadResult> RunAsync(Func<int, Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var measureStart = Stopwatch.GetTimestamp() + ToTimestampTicks(warmup);
        var measureEnd = measureStart + ToTimestampTicks(duration);
        var callers = new Task<LongHistogram>[Concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            var caller = i;
            callers[i] = Task.Run(() => CallerAsync(caller, call, measureStart, measureEnd));
        }

        var merged = NewHistogram();
        foreach (var histogram in await Task.WhenAll(callers))
        {
            merged.Add(histogram);
        }

        return new LoadResult(Concurrency, merged.TotalCount * samplesPerCall / duration.TotalSeconds, merged);
    }

    private static async Task<LongHistogram> CallerAsync(int caller, Func<int, Task> call, long measureStart, long measureEnd)
    {
        var histogram = NewHistogram();
        while (true)
        {
            var before = Stopwatch.GetTimestamp();
            if (before >= measureEnd)
            {
                return histogram;
            }

            await call(caller);
            var after = Stopwatch.GetTimestamp();
            if (after >= measureStart && after < measureEnd)
            {
                var microseconds = Stopwatch.GetElapsedTime(before, after).Ticks / TimeSpan.TicksPerMicrosecond;
                histogram.RecordValue(Math.Clamp(microseconds, 1, HighestLatencyMicroseconds));
            }
        }
    }

    private static LongHistogram NewHistogram() => new(HighestLatencyMicroseconds, 3);

    private static long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>What a <see cref="ClosedLoopLoad"/> measured: throughput and the latency histogram (microseconds).</summary>
public sealed record LoadResult(int Concurrency, double SamplesPerSecond, LongHistogram Latency)
{
    /// <summary>The number of measured calls.</summary>
    public long Calls => Latency.TotalCount;

    /// <summary>The median latency in microseconds.</summary>
    public double P50Microseconds => Latency.GetValueAtPercentile(50);

    /// <summary>The 99th percentile latency in microseconds.</summary>
    public double P99Microseconds => Latency.GetValueAtPercentile(99);

    /// <summary>The median latency in milliseconds.</summary>
    public double P50Milliseconds => P50Microseconds / 1000.0;

    /// <summary>The 99th percentile latency in milliseconds.</summary>
    public double P99Milliseconds => P99Microseconds / 1000.0;
}
