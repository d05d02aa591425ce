using Cluster.Contracts.Experiments;

namespace Cluster.Inference.Experiments;

/// <summary>
/// What an experiment arm's replica measures: request and error counts, its most recent <see cref="SampleCapacity"/>
/// requests (for latency quantiles and the guard rail's window), and the ids it answered (the last
/// <see cref="AnsweredCapacity"/>) so a caller's feedback on one is counted once. Thread-safe.
/// </summary>
public sealed class ArmRecorder(TimeProvider time)
{
    /// <summary>How many recent requests are kept.</summary>
    public const int SampleCapacity = 2048;

    /// <summary>How many answered request ids are remembered for feedback.</summary>
    public const int AnsweredCapacity = 100_000;

    private readonly LatencySample[] _samples = new LatencySample[SampleCapacity];
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);
    private readonly Queue<string> _answeredOrder = new();
    private readonly Lock _lock = new();
    private int _next;
    private int _count;
    private long _requests;
    private long _errors;
    private long _accepted;
    private long _feedback;

    /// <summary>
    /// Records one request that ended after <paramref name="elapsed"/>; answered ones with an id can later get feedback. A generation
    /// also gives the time to its first token (null when none came) and the tokens it generated.
    /// </summary>
    public void Record(string id, TimeSpan elapsed, bool failed, TimeSpan? firstToken = null, int tokens = 0)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_lock)
        {
            _requests++;
            _errors += failed ? 1 : 0;
            _samples[_next] = new LatencySample(time.GetUtcNow(), elapsed.TotalMilliseconds, failed, firstToken?.TotalMilliseconds, tokens);
            _next = (_next + 1) % SampleCapacity;
            _count = Math.Min(_count + 1, SampleCapacity);
            if (!failed && id.Length > 0 && _answered.Add(id))
            {
                _answeredOrder.Enqueue(id);
                if (_answeredOrder.Count > AnsweredCapacity)
                {
                    _answered.Remove(_answeredOrder.Dequeue());
                }
            }
        }
    }

    /// <summary>Counts the caller's report on the answer to <paramref name="id"/>; false when this arm did not answer it or it was already reported.</summary>
    public bool RecordFeedback(string id, bool accepted)
    {
        lock (_lock)
        {
            // The id stays in the order queue until it ages out; a removed one is simply not found again.
            if (!_answered.Remove(id))
            {
                return false;
            }

            _feedback++;
            _accepted += accepted ? 1 : 0;
            return true;
        }
    }

    /// <summary>The counts and the recent requests, oldest first.</summary>
    public ArmStatistics Snapshot()
    {
        lock (_lock)
        {
            var samples = new LatencySample[_count];
            var first = _count < SampleCapacity ? 0 : _next;
            for (var i = 0; i < _count; i++)
            {
                samples[i] = _samples[(first + i) % SampleCapacity];
            }

            return new ArmStatistics { Requests = _requests, Errors = _errors, Accepted = _accepted, Feedback = _feedback, Samples = samples };
        }
    }
}
