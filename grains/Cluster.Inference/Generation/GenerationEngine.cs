using System.Diagnostics;
using Cluster.Contracts.Errors;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Generation;

/// <summary>
/// A continuous-batching generation engine for one decoder replica, free of Orleans: every step is one
/// forward pass over every running sequence (vLLM's iteration-level scheduling), new requests join at
/// the next step, finished or cancelled ones leave at once and free their cache. <see cref="Submit"/> is
/// thread-safe; steps run one at a time, either driven by <see cref="RunAsync"/> or, in tests, by
/// <see cref="StepAsync"/>. Forward passes go through the injected executor (the device's thread).
/// </summary>
public sealed class GenerationEngine
{
    private const int RecentSamples = 4096;

    private readonly IDecoderRunner _runner;
    private readonly Tokenizer _tokenizer;
    private readonly TimeProvider _time;
    private readonly Func<Func<StepOutput>, Task<StepOutput>> _execute;
    private readonly GenerationScheduler _scheduler;
    private readonly PrefixCaching? _prefix;
    private readonly HashSet<int> _eos;
    private readonly object _gate = new();
    private readonly Queue<GenerationSequence> _incoming = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly LatencyRing _ttft = new(RecentSamples);
    private readonly LatencyRing _itl = new(RecentSamples);
    private readonly LatencyHistogram _ttftHistogram = new(LatencyBuckets.TimeToFirstToken);
    private readonly LatencyHistogram _itlHistogram = new(LatencyBuckets.InterToken);
    private readonly LatencyHistogram _e2eHistogram = new(LatencyBuckets.EndToEnd);
    private readonly Dictionary<string, long> _finished = [];
    private long _nextId;
    private int _queued;
    private int _running;
    private long _outstanding;
    private bool _stopped;
    private Exception? _stopReason;
    private GenerationStatistics _totals = new();

    /// <summary>Creates the engine; <paramref name="execute"/> runs a forward pass where it must run (inline when null).</summary>
    public GenerationEngine(
        IDecoderRunner runner,
        Tokenizer tokenizer,
        GenerationSettings settings,
        TimeProvider time,
        Func<Func<StepOutput>, Task<StepOutput>>? execute = null)
    {
        _runner = runner;
        _tokenizer = tokenizer;
        Settings = settings;
        _time = time;
        _execute = execute ?? (pass => Task.FromResult(pass()));
        var blockBytes = runner.Shape.KvBytesPerToken * settings.BlockTokens;
        var blocks = (int)Math.Min(int.MaxValue, settings.KvCacheBytes / blockBytes);
        if (blocks < 1)
        {
            throw new ArgumentException($"The KV cache budget of {settings.KvCacheBytes} bytes holds no block of {settings.BlockTokens} tokens ({blockBytes} " +
                "bytes).", nameof(settings));
        }

        var pool = new KvBlockPool(blocks, settings.BlockTokens);
        _prefix = settings.PrefixCaching && runner is IPrefixBlockStore store ? new PrefixCaching(store, pool) : null;
        _scheduler = new GenerationScheduler(settings, pool, _prefix);
        _eos = [.. settings.EosTokenIds];
    }

    /// <summary>The engine's settings.</summary>
    public GenerationSettings Settings { get; }

    /// <summary>The tokenizer prompts are encoded with.</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>Tokens the KV cache can hold.</summary>
    public int CacheTokens => _scheduler.Pool.TotalBlocks * _scheduler.Pool.BlockTokens;

    /// <summary>
    /// Queues a request and returns its stream. Throws InvalidInputException for a request the model
    /// cannot serve and QueueFullException when the waiting queue is full or the cache could never hold it.
    /// Cancelling <paramref name="cancellationToken"/> ends the stream with finish reason <c>cancelled</c>
    /// and frees its cache within one step.
    /// </summary>
    public GenerationStream Submit(GenerationJob job, CancellationToken cancellationToken = default)
    {
        Validate(job);
        if (!_scheduler.CanEverHold(job.PromptTokens.Length + job.ResumeTokens.Length + 1))
        {
            throw new QueueFullException(
                $"The prompt of {job.PromptTokens.Length} tokens does not fit this replica's KV cache of {CacheTokens} tokens.", TimeSpan.Zero);
        }

        var sequence = new GenerationSequence(Interlocked.Increment(ref _nextId), job, new IncrementalDetokenizer(_tokenizer), _time.GetUtcNow())
        {
            SubmittedTimestamp = _time.GetTimestamp(),
        };
        if (!sequence.ReplayResumed())
        {
            throw new InvalidInputException("resume_tokens already complete a stop string: the generation had ended, there is nothing to resume.");
        }

        lock (_gate)
        {
            if (_stopped)
            {
                throw new ReplicaNotStartedException("The generation replica has stopped; send the request to another replica.");
            }

            if (_queued >= Settings.MaxWaiting)
            {
                throw new QueueFullException($"{_queued} generation requests are already waiting (max {Settings.MaxWaiting}).", TimeSpan.FromSeconds(1));
            }

            _queued++;
            _outstanding += job.PromptTokens.Length + job.MaxTokens;
            _incoming.Enqueue(sequence);
        }

        if (cancellationToken.CanBeCanceled)
        {
            sequence.Registration = cancellationToken.Register(() =>
            {
                sequence.CancelRequested = true;
                _signal.Release();
            });
        }

        _signal.Release();
        return new GenerationStream(sequence.Output.Reader, job.PromptTokens.Length);
    }

    /// <summary>Runs steps until <paramref name="stop"/> is cancelled, sleeping while there is nothing to do.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            bool worked;
            try
            {
                worked = await StepAsync();
            }
            catch (Exception e)
            {
                // A failed forward pass fails the sequences it carried; the engine keeps serving the rest.
                FailRunning(e);
                continue;
            }

            if (!worked)
            {
                try
                {
                    await _signal.WaitAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Takes in new requests, ends cancelled and expired ones, and runs one step; false when no sequence
    /// could run (nothing to do, or everything waits).
    /// </summary>
    public async Task<bool> StepAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var now = _time.GetUtcNow();
        TakeIncoming();
        Sweep(now);
        var chunks = _scheduler.Schedule(now);
        EndOutgrown();
        CountQueue();
        if (chunks.Count == 0)
        {
            return false;
        }

        var rows = new StepRow[chunks.Count];
        long fed = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var (sequence, count) = chunks[i];
            var tokens = sequence.Tokens.GetRange(sequence.Computed, count).ToArray();
            rows[i] = new StepRow(sequence.Id, tokens, sequence.Computed, sequence.Computed + count == sequence.Tokens.Count);
            fed += count;
        }

        var prefix = _prefix?.Plan(chunks);
        StepOutput output;
        try
        {
            output = await _execute(() => prefix is null ? _runner.Run(rows) : _prefix!.Run(prefix, _runner, rows));
        }
        catch
        {
            _prefix?.Complete(prefix!, succeeded: false);
            throw;
        }

        _prefix?.Complete(prefix!, succeeded: true);
        var emitted = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var (sequence, count) = chunks[i];
            sequence.Computed += count;
            if (rows[i].WantLogits)
            {
                Emit(sequence, sequence.Sampler.Next(output.Row(i)));
                emitted++;
            }
        }

        Record(output, fed, emitted, Stopwatch.GetElapsedTime(started));
        return true;
    }

    /// <summary>Tokens still to compute for every queued and running request (prompts not yet cached plus tokens not yet generated): the load callers route
    /// by.</summary>
    public long OutstandingTokens
    {
        get
        {
            lock (_gate)
            {
                return _outstanding;
            }
        }
    }

    /// <summary>Sequences in the running batch.</summary>
    public int RunningCount => Volatile.Read(ref _running);

    /// <summary>A snapshot of the engine's counters.</summary>
    public GenerationStatistics Statistics()
    {
        lock (_gate)
        {
            return _totals with
            {
                Waiting = _queued,
                Running = _running,
                KvCacheUsage = _scheduler.Pool.Usage,
                KvCacheBytes = Settings.KvCacheBytes,
                Preemptions = _scheduler.Preemptions,
                PrefixCacheQueries = _prefix?.Queries ?? 0,
                PrefixCacheHits = _prefix?.Hits ?? 0,
                Finished = new Dictionary<string, long>(_finished),
                RecentTimeToFirstTokenMs = _ttft.Snapshot(),
                RecentInterTokenMs = _itl.Snapshot(),
                TimeToFirstToken = _ttftHistogram.Snapshot(),
                InterTokenLatency = _itlHistogram.Snapshot(),
                EndToEndLatency = _e2eHistogram.Snapshot(),
            };
        }
    }

    /// <summary>
    /// Refuses new requests and ends every queued and running one with <paramref name="reason"/>
    /// (a retryable error by default). Call it from the step loop's side, after <see cref="RunAsync"/> ended.
    /// </summary>
    public void Stop(Exception? reason = null)
    {
        lock (_gate)
        {
            _stopped = true;
            _stopReason = reason ?? new ReplicaNotStartedException("The generation replica stopped; send the request to another replica.");
        }

        TakeIncoming();
        foreach (var sequence in _scheduler.Running.Concat(_scheduler.Waiting).ToList())
        {
            Fail(sequence, _stopReason!);
        }
    }

    private void Validate(GenerationJob job)
    {
        var context = Settings.ContextLength;
        if (job.PromptTokens.Length == 0)
        {
            throw new InvalidInputException("The prompt is empty: text_input must hold at least one token.");
        }

        if (job.PromptTokens.Length >= context)
        {
            throw new InvalidInputException($"The prompt has {job.PromptTokens.Length} tokens; the model's context holds {context}, so text_input must be " +
                $"shorter than {context} tokens.");
        }

        if (job.MaxTokens <= 0 || job.PromptTokens.Length + job.MaxTokens > context)
        {
            throw new InvalidInputException(
                $"max_tokens must be between 1 and {context - job.PromptTokens.Length} (the context of {context} tokens minus the " +
                    $"prompt's {job.PromptTokens.Length}); it was {job.MaxTokens}.");
        }

        var vocabulary = _runner.Shape.VocabularySize;
        foreach (var token in job.PromptTokens)
        {
            if ((uint)token >= (uint)vocabulary)
            {
                throw new InvalidInputException($"Prompt token id {token} is outside the model's vocabulary of {vocabulary}.");
            }
        }

        ValidateResumed(job, vocabulary);
    }

    /// <summary>Resumed tokens must leave at least one token to generate and be tokens this model could have generated.</summary>
    private void ValidateResumed(GenerationJob job, int vocabulary)
    {
        if (job.ResumeTokens.Length >= job.MaxTokens)
        {
            throw new InvalidInputException(
                $"resume_tokens holds {job.ResumeTokens.Length} tokens but max_tokens is {job.MaxTokens}: at most {job.MaxTokens - 1} tokens can be resumed, " +
                    "leaving one to generate.");
        }

        for (var i = 0; i < job.ResumeTokens.Length; i++)
        {
            var token = job.ResumeTokens[i];
            if ((uint)token >= (uint)vocabulary)
            {
                throw new InvalidInputException($"resume_tokens[{i}] is token id {token}, outside the model's vocabulary of {vocabulary}.");
            }

            if (!job.IgnoreEos && _eos.Contains(token))
            {
                throw new InvalidInputException($"resume_tokens[{i}] is the end-of-sequence token {token}: the generation had ended there, there is nothing " +
                    "to resume.");
            }
        }
    }

    private void TakeIncoming()
    {
        lock (_gate)
        {
            while (_incoming.TryDequeue(out var sequence))
            {
                _scheduler.Enqueue(sequence);
                _totals = _totals with { PromptTokens = _totals.PromptTokens + sequence.PromptLength };
            }
        }
    }

    /// <summary>Ends cancelled sequences, sequences past their deadline, and requests that waited too long for cache.</summary>
    private void Sweep(DateTimeOffset now)
    {
        foreach (var sequence in _scheduler.Running.Concat(_scheduler.Waiting).ToList())
        {
            if (sequence.CancelRequested)
            {
                Finish(sequence, -1, string.Empty, FinishReasons.Cancelled);
            }
            else if (sequence.Job.Deadline is { } deadline && now >= deadline)
            {
                Fail(sequence, new InferenceTimeoutException(
                    $"The generation passed its deadline after {(now - sequence.Submitted).TotalMilliseconds:0} ms " +
                    $"with {sequence.Generated} tokens generated."));
            }
        }

        foreach (var sequence in _scheduler.Waiting.ToList())
        {
            // A preempted sequence already holds its caller's stream open; it is recomputed, never refused.
            if (sequence.Preemptions == 0 && now - sequence.WaitingSince >= Settings.MaxWait)
            {
                Fail(sequence, new QueueFullException(
                    $"The replica found no place for the request ({sequence.PromptLength} prompt tokens) within {Settings.MaxWait.TotalSeconds:0.#} s: its " +
                        $"KV cache or its {Settings.MaxRunningSequences} running sequences are full.", TimeSpan.FromSeconds(1)));
            }
        }
    }

    /// <summary>
    /// Ends the sequences that outgrew the whole cache and so preempted themselves: they could never be
    /// admitted again, so the cache is their context and they end as if they had reached the context length.
    /// </summary>
    private void EndOutgrown()
    {
        foreach (var sequence in _scheduler.Waiting.ToList())
        {
            if (!_scheduler.CanEverHold(sequence.Tokens.Count))
            {
                var (text, reason) = Drain(sequence);
                Finish(sequence, -1, text, reason);
            }
        }
    }

    /// <summary>Appends a sampled token, streams its text and ends the sequence when it should stop.</summary>
    private void Emit(GenerationSequence sequence, int token)
    {
        sequence.Tokens.Add(token);
        var timestamp = _time.GetTimestamp();
        lock (_gate)
        {
            if (sequence.Generated == sequence.Resumed + 1)
            {
                var ttft = _time.GetElapsedTime(sequence.SubmittedTimestamp, timestamp);
                _ttft.Add(ttft.TotalMilliseconds);
                _ttftHistogram.Add(ttft.TotalSeconds);
            }
            else
            {
                var itl = _time.GetElapsedTime(sequence.LastTokenTimestamp, timestamp);
                _itl.Add(itl.TotalMilliseconds);
                _itlHistogram.Add(itl.TotalSeconds);
            }
        }

        sequence.LastTokenTimestamp = timestamp;
        if (!sequence.Job.IgnoreEos && _eos.Contains(token))
        {
            Finish(sequence, token, sequence.Stops.Flush(), FinishReasons.Stop);
            return;
        }

        var match = sequence.Stops.Append(sequence.Detokenizer.Add(token));
        if (match.Stopped)
        {
            Finish(sequence, token, match.Text, FinishReasons.Stop);
        }
        else if (sequence.Generated >= sequence.Job.MaxTokens || sequence.Tokens.Count >= Settings.ContextLength)
        {
            var (text, reason) = Drain(sequence);
            Finish(sequence, token, match.Text + text, reason);
        }
        else
        {
            sequence.Output.Writer.TryWrite(
                new GenerationUpdate(token, match.Text, null, sequence.PromptLength, sequence.Generated, sequence.CachedPromptTokens));
        }
    }

    /// <summary>
    /// The text still held back when a sequence ends for its length (an incomplete character, a possible stop
    /// string), and the finish reason: <c>stop</c> when that text completes a stop string, else <c>length</c>.
    /// </summary>
    private static (string Text, string Reason) Drain(GenerationSequence sequence)
    {
        var tail = sequence.Stops.Append(sequence.Detokenizer.Flush());
        return tail.Stopped ? (tail.Text, FinishReasons.Stop) : (tail.Text + sequence.Stops.Flush(), FinishReasons.Length);
    }

    private void Finish(GenerationSequence sequence, int token, string text, string reason)
    {
        Leave(sequence);
        sequence.Output.Writer.TryWrite(new GenerationUpdate(token, text, reason, sequence.PromptLength, sequence.Generated, sequence.CachedPromptTokens));
        sequence.Output.Writer.TryComplete();
        var latency = _time.GetElapsedTime(sequence.SubmittedTimestamp);
        lock (_gate)
        {
            _finished[reason] = _finished.GetValueOrDefault(reason) + 1;
            _e2eHistogram.Add(latency.TotalSeconds);
        }
    }

    private void Fail(GenerationSequence sequence, Exception error)
    {
        Leave(sequence);
        sequence.Output.Writer.TryComplete(error);
        lock (_gate)
        {
            _totals = _totals with { Failed = _totals.Failed + 1 };
        }
    }

    private void Leave(GenerationSequence sequence)
    {
        _scheduler.Remove(sequence);
        sequence.Registration.Dispose();
        CountQueue();
    }

    /// <summary>Publishes the queue's and batch's sizes for <see cref="Submit"/> and <see cref="Statistics"/> (other threads).</summary>
    private void CountQueue()
    {
        long outstanding = 0;
        foreach (var sequence in _scheduler.Running.Concat(_scheduler.Waiting))
        {
            outstanding += sequence.Remaining + sequence.Job.MaxTokens - sequence.Generated;
        }

        lock (_gate)
        {
            _queued = _incoming.Count + _scheduler.Waiting.Count;
            _running = _scheduler.Running.Count;
            foreach (var sequence in _incoming)
            {
                outstanding += sequence.PromptLength + sequence.Job.MaxTokens;
            }

            _outstanding = outstanding;
        }
    }

    private void FailRunning(Exception error)
    {
        var reason = error as InferenceException ?? new ModelExecutionException($"The decoder failed a step: {error.Message}");
        foreach (var sequence in _scheduler.Running.ToList())
        {
            Fail(sequence, reason);
        }
    }

    private void Record(StepOutput output, long fed, int emitted, TimeSpan stepTime)
    {
        lock (_gate)
        {
            _totals = _totals with
            {
                Steps = _totals.Steps + 1,
                StepTime = _totals.StepTime + stepTime,
                RunTime = _totals.RunTime + output.RunTime,
                FedTokens = _totals.FedTokens + fed,
                GeneratedTokens = _totals.GeneratedTokens + emitted,
                KvBytesCopied = _totals.KvBytesCopied + output.KvBytesCopied,
                PaddedSlots = _totals.PaddedSlots + output.PaddedSlots,
                TotalSlots = _totals.TotalSlots + output.TotalSlots,
            };
        }
    }
}
