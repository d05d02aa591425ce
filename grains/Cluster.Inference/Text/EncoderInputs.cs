using Cluster.Contracts.Models;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Text;

/// <summary>
/// One encoder run's inputs for a group of tokenized sentences padded to <c>positions</c>: token ids,
/// the attention mask (1 on real tokens) and zero segment ids, in the encoder's input order.
/// </summary>
internal sealed class EncoderInputs : IDisposable
{
    public EncoderInputs(string[] inputNames, int[] group, List<int[]> sentences, int positions, int paddingId)
    {
        var ids = new long[group.Length * positions];
        var mask = new long[ids.Length];
        Array.Fill(ids, paddingId);
        long real = 0;
        for (var row = 0; row < group.Length; row++)
        {
            var sentence = sentences[group[row]];
            for (var t = 0; t < sentence.Length; t++)
            {
                ids[(row * positions) + t] = sentence[t];
                mask[(row * positions) + t] = 1;
            }

            real += sentence.Length;
        }

        long[] shape = [group.Length, positions];
        Values = Array.ConvertAll(inputNames, name => name switch
        {
            TextEmbeddingSignature.InputIds => OrtValue.CreateTensorValueFromMemory(ids, shape),
            TextEmbeddingSignature.AttentionMask => OrtValue.CreateTensorValueFromMemory(mask, shape),
            _ => OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape),
        });
        Tokens = new TokenCounts { Real = real, Padding = ids.Length - real };
    }

    /// <summary>The tensors, in the order of the input names given.</summary>
    public OrtValue[] Values { get; }

    /// <summary>Real and padding positions of this run.</summary>
    public TokenCounts Tokens { get; }

    public void Dispose()
    {
        foreach (var value in Values)
        {
            value.Dispose();
        }
    }
}
