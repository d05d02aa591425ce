namespace Cluster.Inference.Text;

/// <summary>Sentence-transformers' pooling: the mean of the hidden states of the real tokens, then L2 normalisation.</summary>
public static class MeanPooling
{
    /// <summary>
    /// Pools row <paramref name="row"/> of hidden states [rows, positions, dims] whose first
    /// <paramref name="realTokens"/> positions hold real tokens into <paramref name="destination"/> (length dims).
    /// </summary>
    public static void PoolAndNormalize(ReadOnlySpan<float> hidden, int row, int positions, int realTokens, Span<float> destination)
    {
        var dims = destination.Length;
        destination.Clear();
        var start = row * positions * dims;
        for (var t = 0; t < realTokens; t++)
        {
            var token = hidden.Slice(start + (t * dims), dims);
            for (var d = 0; d < dims; d++)
            {
                destination[d] += token[d];
            }
        }

        double squares = 0;
        for (var d = 0; d < dims; d++)
        {
            destination[d] /= Math.Max(realTokens, 1);
            squares += (double)destination[d] * destination[d];
        }

        // As torch.nn.functional.normalize: a zero vector stays zero.
        var norm = (float)Math.Max(Math.Sqrt(squares), 1e-12);
        for (var d = 0; d < dims; d++)
        {
            destination[d] /= norm;
        }
    }
}
