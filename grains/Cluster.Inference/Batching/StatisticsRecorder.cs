using Cluster.Contracts.Models;

namespace Cluster.Inference.Batching;

/// <summary>Accumulates a replica's statistics in Triton's shape. Thread-safe.</summary>
public sealed class StatisticsRecorder(string model, long version, TimeProvider time)
{
    private readonly object _gate = new();
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

    /// <summary>A request left the queue after <paramref name="waited"/>.</summary>
    public void RecordQueued(TimeSpan waited)
    {
        lock (_gate)
        {
            _queue.Add(waited.Ticks * 100);
        }
    }

    /// <summary>A batch of <paramref name="requests"/> requests and <paramref name="samples"/> samples ran.</summary>
    public void RecordBatch(int requests, int samples, BatchTimings timings)
    {
        lock (_gate)
        {
            _executions++;
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
    }

    /// <summary>A request finished, successfully or not, <paramref name="elapsed"/> after it arrived.</summary>
    public void RecordRequest(bool succeeded, TimeSpan elapsed)
    {
        lock (_gate)
        {
            (succeeded ? ref _success : ref _fail).Add(elapsed.Ticks * 100);
            _lastInferenceMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
    }

    /// <summary>The statistics so far.</summary>
    public ModelStatistics Snapshot()
    {
        lock (_gate)
        {
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
            };
        }
    }

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
