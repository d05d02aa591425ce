using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Text;

/// <summary>
/// The tensors a text-embedding pipeline serves (<c>text</c> BYTES [batch] in, <c>embedding</c> FP32
/// [batch, hidden] out) and the encoder it needs underneath: BERT-style <c>input_ids</c> and
/// <c>attention_mask</c> (and optionally <c>token_type_ids</c>), INT64 [batch, tokens], and a hidden-state
/// output FP32 [batch, tokens, hidden].
/// </summary>
public static class TextEmbeddingSignature
{
    /// <summary>The pipeline's input: one sentence per row.</summary>
    public const string TextInput = "text";

    /// <summary>The pipeline's output: one L2-normalised embedding per sentence.</summary>
    public const string EmbeddingOutput = "embedding";

    /// <summary>The encoder input holding token ids.</summary>
    public const string InputIds = "input_ids";

    /// <summary>The encoder input marking real tokens (1) and padding (0).</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>The encoder input holding segment ids (all 0 for one sentence).</summary>
    public const string TokenTypeIds = "token_type_ids";

    private const string PreferredHiddenOutput = "last_hidden_state";

    /// <summary>
    /// The pipeline's tensors for an encoder with these tensors; throws <see cref="ArgumentException"/> saying
    /// what the encoder lacks when it is not one the pipeline can drive. <paramref name="dimensions"/> is the
    /// configured embedding size (0: the encoder's fixed hidden size).
    /// </summary>
    public static (TensorSpec[] Inputs, TensorSpec[] Outputs) Describe(TensorSpec[] encoderInputs, TensorSpec[] encoderOutputs, int dimensions)
    {
        foreach (var input in encoderInputs)
        {
            if (input.Name is not (InputIds or AttentionMask or TokenTypeIds))
            {
                throw new ArgumentException($"text_embedding cannot feed encoder input '{input}'; it provides {InputIds}, {AttentionMask} and {TokenTypeIds}.");
            }

            if (input.ElementType != TensorElementType.Int64 || input.Shape.Length != 2)
            {
                throw new ArgumentException($"text_embedding needs encoder input '{input.Name}' to be INT64 [batch, tokens], but it is {input}.");
            }
        }

        foreach (var required in new[] { InputIds, AttentionMask })
        {
            if (!Array.Exists(encoderInputs, i => i.Name == required))
            {
                throw new ArgumentException($"text_embedding needs an encoder input '{required}'; the model's inputs " +
                    $"are: {string.Join(", ", encoderInputs.Select(i => i.ToString()))}.");
            }
        }

        var hidden = HiddenOutput(encoderOutputs);
        return (
            [new TensorSpec { Name = TextInput, ElementType = TensorElementType.String, Shape = [-1] }],
            [new TensorSpec { Name = EmbeddingOutput, ElementType = TensorElementType.Float32, Shape = [-1, Dimensions(hidden, dimensions)] }]);
    }

    /// <summary>The encoder output the pipeline pools: <c>last_hidden_state</c> when present, else the first FP32 [batch, tokens, hidden] output.</summary>
    public static TensorSpec HiddenOutput(TensorSpec[] encoderOutputs)
    {
        static bool IsHiddenState(TensorSpec o) => o.ElementType == TensorElementType.Float32 && o.Shape.Length == 3;
        return Array.Find(encoderOutputs, o => o.Name == PreferredHiddenOutput && IsHiddenState(o))
            ?? Array.Find(encoderOutputs, IsHiddenState)
            ?? throw new ArgumentException("text_embedding needs an encoder output FP32 [batch, tokens, hidden]; the model's outputs " +
                $"are: {string.Join(", ", encoderOutputs.Select(o => o.ToString()))}.");
    }

    /// <summary>The embedding size: the configured one, checked against the hidden state's when that is fixed.</summary>
    public static int Dimensions(TensorSpec hidden, int configured)
    {
        var declared = hidden.Shape[2];
        return (declared, configured) switch
        {
            ( > 0, 0) => (int)declared,
            (_, > 0) when declared <= 0 || declared == configured => configured,
            ( > 0, _) => throw new ArgumentException($"text_embedding.dimensions is {configured} but encoder output '{hidden}' has {declared}."),
            _ => throw new ArgumentException($"text_embedding.dimensions is required: encoder output '{hidden}' does not fix its hidden size."),
        };
    }
}
