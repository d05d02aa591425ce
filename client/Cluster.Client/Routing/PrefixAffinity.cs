using Cluster.Contracts.Generation;

namespace Cluster.Client.Routing;

/// <summary>
/// A caller's bounded memory of which replica served recent prompts, so that a prompt sharing a long start with
/// one of them goes where that start's KV cache is. A prompt is cut into blocks of <see cref="BlockChars"/>
/// characters, each identified by the hash of its text chained with the previous block's hash (so a block stands
/// for the whole prefix up to its end, as the engine's prefix cache keys its token blocks); each block's hash maps
/// to the replica that last served a prompt starting with it. The longest remembered prefix wins. At most
/// <see cref="MaxBlocks"/> blocks are kept, the least recently recorded forgotten first. Thread-safe.
/// </summary>
public sealed class PrefixAffinity(int blockChars = PrefixAffinity.DefaultBlockChars, int maxBlocks = PrefixAffinity.DefaultMaxBlocks)
{
    /// <summary>Characters per remembered block by default (about 16 tokens of English or code).</summary>
    public const int DefaultBlockChars = 64;

    /// <summary>Blocks remembered by default (about 4 MiB).</summary>
    public const int DefaultMaxBlocks = 32_768;

    private const ulong Prime = 0x100000001b3;

    private readonly object _gate = new();
    private readonly Dictionary<ulong, LinkedListNode<(ulong Hash, string Replica)>> _blocks = [];
    private readonly LinkedList<(ulong Hash, string Replica)> _recency = new();

    /// <summary>Characters per block.</summary>
    public int BlockChars { get; } = blockChars > 0 ? blockChars : throw new ArgumentOutOfRangeException(nameof(blockChars));

    /// <summary>Most blocks remembered.</summary>
    public int MaxBlocks { get; } = maxBlocks > 0 ? maxBlocks : throw new ArgumentOutOfRangeException(nameof(maxBlocks));

    /// <summary>Blocks remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _blocks.Count;
            }
        }
    }

    /// <summary>The text a generation's prompt is routed by: its prompt, or its conversation's turns in order.</summary>
    public static string TextOf(GenerationRequest request) =>
        request.Messages.Length == 0 ? request.Prompt : string.Concat(request.Messages.Select(m => $"{m.Role}\n{m.Content}\n"));

    /// <summary>The replica that last served the longest remembered start of <paramref name="text"/>, and that start's length in characters; null when none is
    /// remembered.</summary>
    public (string Replica, int SharedChars)? Find(string scope, string text)
    {
        var hashes = Hashes(scope, text);
        lock (_gate)
        {
            (string, int)? found = null;
            for (var b = 0; b < hashes.Length && _blocks.TryGetValue(hashes[b], out var node); b++)
            {
                found = (node.Value.Replica, (b + 1) * BlockChars);
            }

            return found;
        }
    }

    /// <summary>Remembers that <paramref name="replica"/> served <paramref name="text"/> (every full block of it).</summary>
    public void Record(string scope, string text, string replica)
    {
        var hashes = Hashes(scope, text);
        lock (_gate)
        {
            // Deepest first, so the start of a prompt is the most recent and a chain is forgotten from its tail.
            for (var b = hashes.Length - 1; b >= 0; b--)
            {
                if (_blocks.Remove(hashes[b], out var old))
                {
                    _recency.Remove(old);
                }

                _blocks[hashes[b]] = _recency.AddLast((hashes[b], replica));
            }

            while (_blocks.Count > MaxBlocks)
            {
                _blocks.Remove(_recency.First!.Value.Hash);
                _recency.RemoveFirst();
            }
        }
    }

    /// <summary>The chained hashes of the full blocks of <paramref name="text"/>, rooted in <paramref name="scope"/> (the model version).</summary>
    private ulong[] Hashes(string scope, string text)
    {
        var hash = Mix(0xcbf29ce484222325, scope);
        var hashes = new ulong[text.Length / BlockChars];
        for (var b = 0; b < hashes.Length; b++)
        {
            hashes[b] = hash = Mix(hash, text.AsSpan(b * BlockChars, BlockChars));
        }

        return hashes;
    }

    private static ulong Mix(ulong hash, ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * Prime;
        }

        return hash;
    }
}
