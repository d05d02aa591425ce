namespace Cluster.Inference.Generation;

/// <summary>
/// The index of the engine's prefix cache (vLLM's automatic prefix caching): full blocks of recent prompts, each
/// identified by the hash of its tokens chained with its parent block's hash, so a block stands for the whole
/// prefix up to its end. A block is found only when its parent's hash and its tokens match too, so a hash
/// collision is a miss, never wrong tokens. Blocks count against the KV pool's budget; the least recently used
/// block no lookup holds is evicted first, and a prefix is touched from its deepest block up, so a chain loses its
/// tail before its head. The KV itself lives in the runner (<see cref="IPrefixBlockStore"/>) under each block's key;
/// the keys of evicted blocks wait in <see cref="TakeEvicted"/> for the runner to drop them. Not thread-safe: the
/// engine's step loop owns it.
/// </summary>
internal sealed class PrefixBlockCache
{
    private const ulong Root = 0xcbf29ce484222325;
    private const ulong Prime = 0x100000001b3;

    private readonly KvBlockPool _pool;
    private readonly Dictionary<ulong, PrefixBlock> _blocks = [];
    private readonly LinkedList<PrefixBlock> _recency = new();
    private readonly List<long> _evicted = [];
    private long _nextKey;

    /// <summary>Creates the index over <paramref name="pool"/>'s budget and lets the pool reclaim its blocks.</summary>
    public PrefixBlockCache(KvBlockPool pool)
    {
        _pool = pool;
        pool.Reclaim = blocks => Evict(blocks);
    }

    /// <summary>Tokens per block.</summary>
    public int BlockTokens => _pool.BlockTokens;

    /// <summary>Blocks held.</summary>
    public int Count => _blocks.Count;

    /// <summary>The chained hashes of the full blocks of the first <paramref name="length"/> tokens.</summary>
    public ulong[] Hashes(IReadOnlyList<int> tokens, int length)
    {
        var hashes = new ulong[length / BlockTokens];
        var hash = Root;
        for (var b = 0; b < hashes.Length; b++)
        {
            for (var t = b * BlockTokens; t < (b + 1) * BlockTokens; t++)
            {
                hash = (hash ^ (uint)tokens[t]) * Prime;
            }

            hashes[b] = hash;
        }

        return hashes;
    }

    /// <summary>
    /// The cached blocks that begin <paramref name="tokens"/> (at most <paramref name="maxBlocks"/>), pinned against
    /// eviction until <see cref="Unpin"/> and made the most recently used.
    /// </summary>
    public List<PrefixBlock> Match(IReadOnlyList<int> tokens, ulong[] hashes, int maxBlocks)
    {
        var matched = new List<PrefixBlock>();
        for (var b = 0; b < Math.Min(maxBlocks, hashes.Length) && Find(tokens, hashes, b) is { } block; b++)
        {
            block.Pins++;
            matched.Add(block);
        }

        for (var b = matched.Count - 1; b >= 0; b--)
        {
            Touch(matched[b]);
        }

        return matched;
    }

    /// <summary>Releases the pins <see cref="Match"/> took.</summary>
    public static void Unpin(IEnumerable<PrefixBlock> blocks)
    {
        foreach (var block in blocks)
        {
            block.Pins--;
        }
    }

    /// <summary>Whether block <paramref name="index"/> of <paramref name="tokens"/> is cached.</summary>
    public bool Contains(IReadOnlyList<int> tokens, ulong[] hashes, int index) => Find(tokens, hashes, index) is not null;

    /// <summary>A key no block has had, for the runner to store a new block's KV under.</summary>
    public long NewKey() => ++_nextKey;

    /// <summary>
    /// Adds block <paramref name="index"/> of <paramref name="tokens"/>, whose KV the runner stored under
    /// <paramref name="key"/>, evicting the least recently used block when the pool has none free. A block already
    /// cached, or one there is no room for, is not added and its key waits in <see cref="TakeEvicted"/>.
    /// </summary>
    public void Add(IReadOnlyList<int> tokens, ulong[] hashes, int index, long key)
    {
        var hash = hashes[index];
        if (_blocks.ContainsKey(hash) || !(_pool.TryCache() || (Evict(1) == 1 && _pool.TryCache())))
        {
            Discard(key);
            return;
        }

        var block = new PrefixBlock(key, hash, Parent(hashes, index), [.. Slice(tokens, index)]);
        block.Recency = _recency.AddLast(block);
        _blocks[hashes[index]] = block;
    }

    /// <summary>Marks a key whose block was never added (its step failed): the runner may drop what it stored under it.</summary>
    public void Discard(long key) => _evicted.Add(key);

    /// <summary>Keys of the blocks evicted (or never added) since the last call: the runner may drop their KV.</summary>
    public List<long> TakeEvicted()
    {
        var keys = new List<long>(_evicted);
        _evicted.Clear();
        return keys;
    }

    /// <summary>Evicts up to <paramref name="blocks"/> unpinned blocks, least recently used first; returns how many.</summary>
    private int Evict(int blocks)
    {
        var evicted = 0;
        var node = _recency.First;
        while (node is not null && evicted < blocks)
        {
            var next = node.Next;
            if (node.Value.Pins == 0)
            {
                _recency.Remove(node);
                _blocks.Remove(node.Value.Hash);
                _evicted.Add(node.Value.Key);
                _pool.Uncache();
                evicted++;
            }

            node = next;
        }

        return evicted;
    }

    private PrefixBlock? Find(IReadOnlyList<int> tokens, ulong[] hashes, int index) =>
        _blocks.TryGetValue(hashes[index], out var block) && block.Parent == Parent(hashes, index) && Slice(tokens, index).SequenceEqual(block.Tokens)
            ? block
            : null;

    private void Touch(PrefixBlock block)
    {
        _recency.Remove(block.Recency!);
        _recency.AddLast(block.Recency!);
    }

    private static ulong Parent(ulong[] hashes, int index) => index == 0 ? Root : hashes[index - 1];

    private IEnumerable<int> Slice(IReadOnlyList<int> tokens, int index) => tokens.Skip(index * BlockTokens).Take(BlockTokens);
}

/// <summary>One cached block: the runner's key for its KV, its chained hash, its parent's hash, its tokens, and the lookups holding it.</summary>
internal sealed class PrefixBlock(long key, ulong hash, ulong parent, int[] tokens)
{
    public long Key { get; } = key;

    public ulong Hash { get; } = hash;

    public ulong Parent { get; } = parent;

    public int[] Tokens { get; } = tokens;

    /// <summary>Admitted sequences whose KV is still to be copied from this block.</summary>
    public int Pins { get; set; }

    public LinkedListNode<PrefixBlock>? Recency { get; set; }
}
