namespace Cluster.Inference.Generation;

/// <summary>
/// A runner that can keep copies of cached prompt blocks for the engine's prefix cache and start a sequence from
/// them. The engine decides which blocks exist (<see cref="PrefixBlockCache"/>); the store only holds their KV
/// under the engine's keys. Its methods block: call them on the device's thread, around <see cref="IDecoderRunner.Run"/>.
/// </summary>
public interface IPrefixBlockStore
{
    /// <summary>
    /// Copies the KV of tokens <paramref name="start"/> to <paramref name="start"/> + <paramref name="tokens"/> of a
    /// sequence the runner holds (after the last step) and keeps it under <paramref name="key"/>.
    /// </summary>
    void SaveBlock(long key, long sequenceId, int start, int tokens);

    /// <summary>
    /// Makes the runner hold the blocks under <paramref name="keys"/>, in order, as the cached tokens of
    /// <paramref name="sequenceId"/> (which it does not hold yet), so the next step may feed it from their end.
    /// </summary>
    void LoadBlocks(long sequenceId, IReadOnlyList<long> keys);

    /// <summary>Drops the blocks under <paramref name="keys"/> (keys it never kept are ignored).</summary>
    void DropBlocks(IEnumerable<long> keys);
}
