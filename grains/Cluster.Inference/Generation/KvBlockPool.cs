namespace Cluster.Inference.Generation;

/// <summary>
/// The KV cache's budget in blocks of <see cref="BlockTokens"/> tokens: each sequence holds enough blocks
/// for its cached tokens, a sequence is admitted only when its blocks are free, and a finished, cancelled
/// or preempted sequence gives its blocks back at once. The prefix cache's blocks count against the same budget but
/// are given back (<see cref="Reclaim"/>) whenever a sequence needs them: running sequences always win. Not thread-safe: the engine's step loop owns it.
/// </summary>
public sealed class KvBlockPool
{
    private readonly Dictionary<long, int> _held = [];

    /// <summary>Creates a pool of <paramref name="totalBlocks"/> blocks.</summary>
    public KvBlockPool(int totalBlocks, int blockTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalBlocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockTokens);
        TotalBlocks = totalBlocks;
        BlockTokens = blockTokens;
    }

    /// <summary>Blocks in the pool.</summary>
    public int TotalBlocks { get; }

    /// <summary>Tokens one block holds.</summary>
    public int BlockTokens { get; }

    /// <summary>Blocks held by sequences.</summary>
    public int UsedBlocks { get; private set; }

    /// <summary>Blocks held by the prefix cache alone (evictable).</summary>
    public int CachedBlocks { get; private set; }

    /// <summary>Blocks free.</summary>
    public int FreeBlocks => TotalBlocks - UsedBlocks - CachedBlocks;

    /// <summary>Evicts up to the given number of the prefix cache's blocks (least recently used first), giving them back through <see
    /// cref="Uncache"/>.</summary>
    internal Action<int>? Reclaim { get; set; }

    /// <summary>Share of the pool in use, 0 to 1.</summary>
    public double Usage => (double)UsedBlocks / TotalBlocks;

    /// <summary>Blocks needed to hold <paramref name="tokens"/> tokens.</summary>
    public int BlocksFor(int tokens) => (tokens + BlockTokens - 1) / BlockTokens;

    /// <summary>Blocks a sequence holds (0 when it holds none).</summary>
    public int HeldBy(long sequence) => _held.GetValueOrDefault(sequence);

    /// <summary>
    /// Makes <paramref name="sequence"/> hold room for <paramref name="tokens"/> tokens, taking only the
    /// missing blocks; false (and nothing taken) when they are not free.
    /// </summary>
    public bool TryReserve(long sequence, int tokens)
    {
        var held = HeldBy(sequence);
        var missing = BlocksFor(tokens) - held;
        if (missing <= 0)
        {
            return true;
        }

        if (missing > FreeBlocks)
        {
            Reclaim?.Invoke(missing - FreeBlocks);
            if (missing > FreeBlocks)
            {
                return false;
            }
        }

        _held[sequence] = held + missing;
        UsedBlocks += missing;
        return true;
    }

    /// <summary>Gives back every block of <paramref name="sequence"/>.</summary>
    public void Free(long sequence)
    {
        if (_held.Remove(sequence, out var held))
        {
            UsedBlocks -= held;
        }
    }

    /// <summary>Takes a free block for the prefix cache; false when none is free.</summary>
    public bool TryCache()
    {
        if (FreeBlocks == 0)
        {
            return false;
        }

        CachedBlocks++;
        return true;
    }

    /// <summary>Gives back a block the prefix cache held.</summary>
    public void Uncache() => CachedBlocks--;
}
