namespace Cluster.Inference.Generation;

/// <summary>One sequence's share of a planned step: feed <see cref="Count"/> tokens from its <c>Computed</c> position.</summary>
internal readonly record struct ScheduledChunk(GenerationSequence Sequence, int Count);

/// <summary>
/// The engine's policy, free of I/O: which sequences run in the next step and how many tokens each. Each
/// step spends one token budget: first one decode token for every running sequence, then prefill chunks
/// (running prompts first, then waiting requests admitted in priority and arrival order while their whole
/// prompt fits the cache). When the cache cannot hold a running sequence's next token, the newest running
/// sequence is preempted: its blocks are freed and it waits to be recomputed. With a prefix cache, an admitted
/// sequence starts after the cached blocks its prompt begins with. Not thread-safe: the engine's step loop owns it.
/// </summary>
internal sealed class GenerationScheduler(GenerationSettings settings, KvBlockPool pool, PrefixCaching? prefix = null)
{
    private readonly List<GenerationSequence> _running = [];
    private readonly List<GenerationSequence> _waiting = [];

    public IReadOnlyList<GenerationSequence> Running => _running;

    public IReadOnlyList<GenerationSequence> Waiting => _waiting;

    public KvBlockPool Pool => pool;

    /// <summary>Preemptions so far.</summary>
    public long Preemptions { get; private set; }

    /// <summary>Whether a sequence of <paramref name="tokens"/> tokens could ever fit the cache.</summary>
    public bool CanEverHold(int tokens) => pool.BlocksFor(tokens) <= pool.TotalBlocks;

    /// <summary>Adds a request to the waiting queue, behind those of its priority that arrived earlier.</summary>
    public void Enqueue(GenerationSequence sequence)
    {
        var index = _waiting.FindIndex(w => Before(sequence, w));
        _waiting.Insert(index < 0 ? _waiting.Count : index, sequence);
    }

    /// <summary>Takes a sequence out (finished, cancelled or failed) and frees its cache.</summary>
    public void Remove(GenerationSequence sequence)
    {
        if (!_running.Remove(sequence))
        {
            _waiting.Remove(sequence);
        }

        pool.Free(sequence.Id);
    }

    /// <summary>Plans the next step; empty when nothing can run.</summary>
    public List<ScheduledChunk> Schedule(DateTimeOffset now)
    {
        var chunks = new List<ScheduledChunk>();
        var budget = settings.MaxStepTokens;
        var wasIdle = _running.Count == 0;

        // Decode tokens first, so a long prompt joining never stalls the sequences already generating; every running
        // sequence decodes in every step (a sequence left out of a step would lose its cache in the runner).
        for (var i = 0; i < _running.Count; i++)
        {
            var sequence = _running[i];
            if (sequence.Remaining == 1 && Reserve(sequence, sequence.Computed + 1, now, ref i))
            {
                chunks.Add(new ScheduledChunk(sequence, 1));
                budget--;
            }
        }

        for (var i = 0; i < _running.Count && budget > 0; i++)
        {
            var sequence = _running[i];
            if (sequence.Remaining > 1)
            {
                var count = Math.Min(sequence.Remaining, budget);
                chunks.Add(new ScheduledChunk(sequence, count));
                budget -= count;
            }
        }

        var admitLimit = settings.Policy switch
        {
            SchedulePolicy.Continuous => settings.MaxRunningSequences,
            SchedulePolicy.Static => wasIdle ? settings.MaxRunningSequences : 0,
            _ => wasIdle ? 1 : 0,
        };
        // A static batch takes every request that fits at once (a request-level batcher's batch); the others prefill
        // over the next steps. Continuous admission stops when the step's budget is spent: the rest join next step.
        while (_waiting.Count > 0 && _running.Count < admitLimit && (budget > 0 || settings.Policy == SchedulePolicy.Static))
        {
            var sequence = _waiting[0];

            // The whole prompt is reserved at admission, so a prefill never runs out of cache half-way.
            if (!pool.TryReserve(sequence.Id, sequence.Tokens.Count))
            {
                break;
            }

            _waiting.RemoveAt(0);
            _running.Add(sequence);
            if (budget > 0)
            {
                // Only a sequence fed in this step may start from cached blocks: the runner holds them for one step.
                prefix?.Admit(sequence);
            }

            var count = Math.Min(sequence.Remaining, budget);
            if (count > 0)
            {
                chunks.Add(new ScheduledChunk(sequence, count));
                budget -= count;
            }
        }

        return chunks;
    }

    /// <summary>
    /// Reserves room for <paramref name="tokens"/> tokens of the running sequence at <paramref name="index"/>,
    /// preempting the newest running sequences until it fits; false when the sequence itself was preempted.
    /// </summary>
    private bool Reserve(GenerationSequence sequence, int tokens, DateTimeOffset now, ref int index)
    {
        while (!pool.TryReserve(sequence.Id, tokens))
        {
            var victim = _running[^1];
            Preempt(victim, now);
            if (victim == sequence)
            {
                index--;
                return false;
            }
        }

        return true;
    }

    private void Preempt(GenerationSequence sequence, DateTimeOffset now)
    {
        _running.Remove(sequence);
        pool.Free(sequence.Id);
        sequence.Computed = 0;
        sequence.Preemptions++;
        sequence.WaitingSince = now;
        Preemptions++;
        Enqueue(sequence);
    }

    private static bool Before(GenerationSequence a, GenerationSequence b) =>
        a.Job.Priority < b.Job.Priority || (a.Job.Priority == b.Job.Priority && a.Id < b.Id);
}
