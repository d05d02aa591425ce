namespace Cluster.Inference.Generation;

/// <summary>
/// The engine's use of its prefix cache. At admission a sequence looks its prompt's full blocks up and starts
/// computing after the ones found (never its last token, whose logits it needs); each step then copies the found
/// blocks into the sequence's cache before the forward pass and copies out the prompt blocks the pass completed
/// (<see cref="PrefixStep"/>), which join the cache once the step succeeded. Not thread-safe: the engine's step
/// loop owns it, and <see cref="Run"/> runs on the device's thread.
/// </summary>
internal sealed class PrefixCaching(IPrefixBlockStore store, KvBlockPool pool)
{
    private readonly PrefixBlockCache _cache = new(pool);
    private long _queries;
    private long _hits;

    /// <summary>Prompt tokens looked up, once per request.</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>Prompt tokens found cached, once per request.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Starts a sequence just admitted after the cached blocks its tokens begin with; they are loaded in its next step.</summary>
    public void Admit(GenerationSequence sequence)
    {
        var blockTokens = _cache.BlockTokens;
        var matched = _cache.Match(sequence.Tokens, HashesOf(sequence), (sequence.Tokens.Count - 1) / blockTokens);
        sequence.PrefixBlocks = matched;
        sequence.Computed = matched.Count * blockTokens;
        sequence.SavedBlocks = Math.Max(sequence.SavedBlocks, matched.Count);
        if (sequence.Preemptions == 0)
        {
            sequence.CachedPromptTokens = sequence.Computed;
            Interlocked.Add(ref _queries, sequence.PromptLength);
            Interlocked.Add(ref _hits, sequence.Computed);
        }
    }

    /// <summary>What the runner must do around the step of <paramref name="chunks"/>: drop evicted blocks, load admitted prefixes, save completed prompt
    /// blocks.</summary>
    public PrefixStep Plan(IReadOnlyList<ScheduledChunk> chunks)
    {
        var step = new PrefixStep(_cache.TakeEvicted());
        foreach (var (sequence, count) in chunks)
        {
            if (sequence.PrefixBlocks.Count > 0)
            {
                step.Loads.Add((sequence.Id, sequence.PrefixBlocks));
                sequence.PrefixBlocks = [];
            }

            var full = Math.Min(sequence.Computed + count, sequence.PromptLength) / _cache.BlockTokens;
            for (var index = sequence.SavedBlocks; index < full; index++)
            {
                if (!_cache.Contains(sequence.Tokens, HashesOf(sequence), index))
                {
                    step.Saves.Add((sequence, index, _cache.NewKey()));
                }
            }

            sequence.SavedBlocks = Math.Max(sequence.SavedBlocks, full);
        }

        return step;
    }

    /// <summary>Runs the step with the planned copies around it (on the device's thread).</summary>
    public StepOutput Run(PrefixStep step, IDecoderRunner runner, IReadOnlyList<StepRow> rows)
    {
        store.DropBlocks(step.Dropped);
        foreach (var (id, blocks) in step.Loads)
        {
            store.LoadBlocks(id, [.. blocks.Select(b => b.Key)]);
        }

        var output = runner.Run(rows);
        var blockTokens = _cache.BlockTokens;
        foreach (var (sequence, index, key) in step.Saves)
        {
            store.SaveBlock(key, sequence.Id, index * blockTokens, blockTokens);
        }

        return output;
    }

    /// <summary>Releases the step's loaded blocks and adds its saved ones to the cache (or, when it failed, discards them).</summary>
    public void Complete(PrefixStep step, bool succeeded)
    {
        foreach (var (_, blocks) in step.Loads)
        {
            PrefixBlockCache.Unpin(blocks);
        }

        foreach (var (sequence, index, key) in step.Saves)
        {
            if (succeeded)
            {
                _cache.Add(sequence.Tokens, sequence.PromptHashes!, index, key);
            }
            else
            {
                _cache.Discard(key);
            }
        }
    }

    /// <summary>The chained hashes of a sequence's full prompt blocks, computed once.</summary>
    private ulong[] HashesOf(GenerationSequence sequence) => sequence.PromptHashes ??= _cache.Hashes(sequence.Tokens, sequence.PromptLength);
}

/// <summary>The prefix cache's work around one step.</summary>
/// <param name="Dropped">Keys of evicted blocks the runner may drop.</param>
internal sealed record PrefixStep(List<long> Dropped)
{
    /// <summary>Sequences starting from cached blocks, and the blocks, in order.</summary>
    public List<(long SequenceId, List<PrefixBlock> Blocks)> Loads { get; } = [];

    /// <summary>Prompt blocks this step completes: the sequence, the block's index in its prompt, and the key to store it under.</summary>
    public List<(GenerationSequence Sequence, int Index, long Key)> Saves { get; } = [];
}
