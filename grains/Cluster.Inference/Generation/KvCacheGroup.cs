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

    /// <summary>The id of an idle row (its sequence left; a joining one may take it).</summary>
    public const long NoSequence = long.MinValue;

    /// <summary>The row holding exactly <paramref name="length"/> tokens of <paramref name="sequence"/>, or -1.</summary>
    public int IndexOf(long sequence, int length)
    {
        var index = Array.IndexOf(Ids, sequence);
        return index >= 0 && Lengths[index] == length ? index : -1;
    }

    public void Dispose()
    {
        foreach (var tensor in Tensors)
        {
            tensor.Dispose();
        }
    }
}
