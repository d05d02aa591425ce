using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Generation;

/// <summary>
/// The KV cache of the sequences one forward pass ran, kept as that pass's <c>present</c> tensors: row r holds
/// sequence <c>Ids[r]</c>, its <c>Lengths[r]</c> cached tokens right-aligned in <see cref="Columns"/> columns,
/// the columns before them padding.
/// </summary>
internal sealed class KvCacheGroup(OrtValue[] tensors, long[] ids, int[] lengths, int columns)
{
    /// <summary>Keys and values of every layer: <c>[rows, kv_heads, columns, head_dim]</c> each, in the order of the past inputs.</summary>
    public OrtValue[] Tensors { get; } = tensors;

    public long[] Ids { get; } = ids;

    public int[] Lengths { get; } = lengths;

    public int Columns { get; } = columns;

    /// <summary>Whether the next pass's past tensors would be exactly these: the same sequences in the same order, each grown by the tokens it is fed.</summary>
    public bool Matches(IReadOnlyList<StepRow> rows, int past)
    {
        if (rows.Count != Ids.Length || past != Columns)
        {
            return false;
        }

        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].SequenceId != Ids[r] || rows[r].Position != Lengths[r])
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors)
        {
            tensor.Dispose();
        }
    }
}
