using System.Diagnostics;
using System.Globalization;
using Cluster.Contracts.Models;
using Cluster.Inference.Telemetry;

namespace Cluster.Inference.Batching;

/// <summary>
/// Accumulates a replica's statistics in Triton's shape and, when given <see cref="InferenceMetrics"/>,
/// records the same events on the metrics instruments. Thread-safe.
/// </summary>
public sealed class StatisticsRecorder(string model, long version, TimeProvider time, InferenceMetrics? metrics = null, string silo = "",
    SiloLabels? labels = null)
{
    private readonly TagList _tags = new()
    {
        { "model", model },
        { "version", version.ToString(CultureInfo.InvariantCulture) },
        { "silo", silo },
        { "cloud", (labels ?? SiloLabels.Local).Cloud },
        { "region", (labels ?? SiloLabels.Local).Region },
    };

    /// <summary>How many of the latest successful requests the latency percentiles cover.</summary>
    public const int RecentRequests = 1024;

    private readonly object _gate = new();
    private readonly double[] _recentMs = new double[RecentRequests];
    private int _recentCount;
    private int _recentNext;
    private readonly SortedDictionary<int, (Total Input, Total Infer, Total Output)> _batches = [];
    private Total _success;
    private Total _fail;
    private Total _queue;
    private Total _input;
    private Total _infer;
    private Total _output;
    private long _inferences;
    private long _executions;
    private long _lastInferenceMs;
    private TokenCounts _tokens;

    /// <summary>
    /// A batch's requests left the queue after <paramref name="waits"/>: the totals are taken once per batch, the queue-time
    /// histogram gets every request's wait.
    /// </summary>
    public void RecordQueued(ReadOnlySpan<TimeSpan> waits)
    {
        var total = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var waited in waits)
            {
                _queue.Add(waited.Ticks * 100);
                total += waited;
            }
        }

        if (metrics is null)
        {
            return;
        }

        metrics.QueueDuration.Add((long)total.TotalMicroseconds, _tags);
        foreach (var waited in waits)
        {
            metrics.QueueTime.Record(waited.TotalMilliseconds, _tags);
        }
    }

    /// <summary>A batch of <paramref name="requests"/> requests and <paramref name="samples"/> samples ran (over <paramref name="tokens"/> positions for a text
    /// model).</summary>
    public void RecordBatch(int requests, int samples, BatchTimings timings, TokenCounts tokens = default)
    {
        lock (_gate)
        {
            _executions++;
            _tokens += tokens;
            _inferences += samples;
            // Triton counts a batch's compute time once for every request in it.
            _input.Add(timings.InputNanoseconds, requests);
            _infer.Add(timings.InferNanoseconds, requests);
            _output.Add(timings.OutputNanoseconds, requests);

            var batch = _batches.GetValueOrDefault(samples);
            batch.Input.Add(timings.InputNanoseconds);
            batch.Infer.Add(timings.InferNanoseconds);
            batch.Output.Add(timings.OutputNanoseconds);
            _batches[samples] = batch;
        }

        if (metrics is not null)
        {
            metrics.Executions.Add(1, _tags);
            metrics.Inferences.Add(samples, _tags);
            metrics.ComputeInput.Add(timings.InputNanoseconds / 1000 * requests, _tags);
            metrics.ComputeInfer.Add(timings.InferNanoseconds / 1000 * requests, _tags);
            metrics.ComputeOutput.Add(timings.OutputNanoseconds / 1000 * requests, _tags);
            metrics.BatchSize.Record(samples, _tags);
            RecordTokens(metrics, tokens);
        }
    }

    /// <summary>A request arrived (it counts as pending until <see cref="RecordRequest"/> or <see cref="RecordSuccesses"/>).</summary>
    public void RecordArrival() => metrics?.Pending.Add(1, _tags);

    /// <summary>A request finished <paramref name="elapsed"/> after it arrived: successfully when <paramref name="failure"/> is null.</summary>
    public void RecordRequest(FailureReason? failure, TimeSpan elapsed)
    {
        if (failure is null)
        {
            RecordSuccesses([elapsed]);
            return;
        }

        lock (_gate)
        {
            _fail.Add(elapsed.Ticks * 100);
            _lastInferenceMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        if (metrics is null)
        {
            return;
        }

        var tags = _tags;
        tags.Add("reason", InferenceMetrics.Label(failure.Value));
        metrics.Pending.Add(-1, _tags);
        metrics.RequestDuration.Add((long)elapsed.TotalMicroseconds, _tags);
        metrics.RequestLatency.Record(elapsed.TotalMilliseconds, _tags);
        metrics.Failure.Add(1, tags);
    }

    /// <summary>
    /// Requests succeeded, each <paramref name="elapsed"/> after it arrived (a batch's, together): the totals and counters are taken
    /// once, the latency histogram and the recent percentiles get every request.
    /// </summary>
    public void RecordSuccesses(ReadOnlySpan<TimeSpan> elapsed)
    {
        var total = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var one in elapsed)
            {
                _success.Add(one.Ticks * 100);
                _recentMs[_recentNext] = one.TotalMilliseconds;
                _recentNext = (_recentNext + 1) % RecentRequests;
                total += one;
            }

            _recentCount = Math.Min(_recentCount + elapsed.Length, RecentRequests);
            _lastInferenceMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        if (metrics is null)
        {
            return;
        }

        metrics.Pending.Add(-elapsed.Length, _tags);
        metrics.RequestDuration.Add((long)total.TotalMicroseconds, _tags);
        metrics.Success.Add(elapsed.Length, _tags);
        foreach (var one in elapsed)
        {
            metrics.RequestLatency.Record(one.TotalMilliseconds, _tags);
        }
    }

    /// <summary>The statistics so far.</summary>
    public ModelStatistics Snapshot()
    {
        lock (_gate)
        {
            var recent = _recentMs[.._recentCount];
            Array.Sort(recent);
            return new ModelStatistics
            {
                Model = model,
                Version = version,
                LastInferenceMs = _lastInferenceMs,
                InferenceCount = _inferences,
                ExecutionCount = _executions,
                Success = _success.ToDuration(),
                Fail = _fail.ToDuration(),
                Queue = _queue.ToDuration(),
                ComputeInput = _input.ToDuration(),
                ComputeInfer = _infer.ToDuration(),
                ComputeOutput = _output.ToDuration(),
                Batches = [.. _batches.Select(b => new BatchStatistics
                {
                    BatchSize = b.Key,
                    ComputeInput = b.Value.Input.ToDuration(),
                    ComputeInfer = b.Value.Infer.ToDuration(),
                    ComputeOutput = b.Value.Output.ToDuration(),
                })],
                Tokens = _tokens,
                RecentP50Ms = Percentile(recent, 0.50),
                RecentP99Ms = Percentile(recent, 0.99),
            };
        }
    }

    private void RecordTokens(InferenceMetrics metrics, TokenCounts tokens)
    {
        if (tokens.Real + tokens.Padding == 0)
        {
            return;
        }

        var real = _tags;
        real.Add("kind", "real");
        metrics.Tokens.Add(tokens.Real, real);
        var padding = _tags;
        padding.Add("kind", "padding");
        metrics.Tokens.Add(tokens.Padding, padding);
    }

    /// <summary>The nearest-rank percentile of sorted values (0 when empty).</summary>
    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Length) - 1)];

    private struct Total
    {
        private long _count;
        private long _nanoseconds;

        public void Add(long nanoseconds, int times = 1)
        {
            _count += times;
            _nanoseconds += nanoseconds * times;
        }

        public readonly StatisticDuration ToDuration() => new() { Count = _count, Nanoseconds = _nanoseconds };
    }
}
