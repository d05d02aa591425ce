using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Generation;

/// <summary>
/// The runner's side of the prefix cache: a block is a copy of one sequence's KV for a run of tokens, every layer,
/// laid out per cache tensor as <c>[kv_heads, tokens, head_dim]</c>; loading blocks builds a one-row group holding
/// them side by side, which the next step's prefill takes as its past.
/// </summary>
public sealed partial class OnnxDecoderRunner : IPrefixBlockStore
{
    private readonly Dictionary<long, (byte[] Data, int Tokens)> _blocks = [];

    /// <inheritdoc />
    public void SaveBlock(long key, long sequenceId, int start, int tokens)
    {
        var (group, row) = Holding(sequenceId, start + tokens);
        var part = PartBytes(tokens);
        var data = new byte[part * _pastNames.Length];
        var first = group.Columns - group.Lengths[row] + start;
        for (var t = 0; t < _pastNames.Length; t++)
        {
            CopyRow(group.Tensors[t].GetTensorMutableRawData(), row, group.Columns, first, data.AsSpan(t * part, part), 0, tokens, 0, tokens);
        }

        _blocks[key] = (data, tokens);
    }

    /// <inheritdoc />
    public void LoadBlocks(long sequenceId, IReadOnlyList<long> keys)
    {
        var blocks = keys.Select(k => _blocks.TryGetValue(k, out var block) ? block : throw new InvalidOperationException($"Prefix block {k} is not held."))
            .ToList();
        var columns = blocks.Sum(b => b.Tokens);
        var tensors = new OrtValue[_pastNames.Length];
        for (var t = 0; t < tensors.Length; t++)
        {
            tensors[t] = Allocate(1, columns);
            var column = 0;
            foreach (var (data, tokens) in blocks)
            {
                var part = PartBytes(tokens);
                CopyRow(data.AsSpan(t * part, part), 0, tokens, 0, tensors[t].GetTensorMutableRawData(), 0, columns, column, tokens);
                column += tokens;
            }
        }

        _prefilled.Add(new KvCacheGroup(tensors, [sequenceId], [columns], columns));
    }

    /// <inheritdoc />
    public void DropBlocks(IEnumerable<long> keys)
    {
        foreach (var key in keys)
        {
            _blocks.Remove(key);
        }
    }

    /// <summary>Bytes of one cache tensor's part of a block of <paramref name="tokens"/> tokens.</summary>
    private int PartBytes(int tokens) => Shape.KvHeads * tokens * Shape.HeadSize * Shape.BytesPerElement;

    /// <summary>The group and row holding at least <paramref name="tokens"/> cached tokens of a sequence.</summary>
    private (KvCacheGroup Group, int Row) Holding(long sequenceId, int tokens)
    {
        foreach (var group in _prefilled.Prepend(_decoding))
        {
            var row = group is null ? -1 : Array.IndexOf(group.Ids, sequenceId);
            if (row >= 0 && group!.Lengths[row] >= tokens)
            {
                return (group, row);
            }
        }

        throw new InvalidOperationException($"Sequence {sequenceId} does not hold {tokens} cached tokens to save.");
    }
}
