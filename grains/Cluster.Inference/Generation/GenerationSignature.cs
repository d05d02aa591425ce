using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Generation;

/// <summary>
/// The tensors a generation model serves over the Open Inference Protocol, as Triton's LLM backends name
/// them: <c>text_input</c> BYTES [1] in, <c>text_output</c> BYTES [1] out (one response per token on a
/// stream, the whole text on a unary call). Sampling settings travel as request parameters.
/// </summary>
public static class GenerationSignature
{
    /// <summary>The prompt.</summary>
    public const string TextInput = "text_input";

    /// <summary>
    /// A conversation instead of a prompt: one BYTES element holding a JSON array of <c>{"role", "content"}</c>
    /// objects, rendered by the model's chat template. Optional, so not listed among the served inputs.
    /// </summary>
    public const string Messages = "messages";

    /// <summary>The generated text.</summary>
    public const string TextOutput = "text_output";

    /// <summary>The served tensors of a decoder in the Optimum layout; throws ArgumentException when the graph is not one.</summary>
    public static (TensorSpec[] Inputs, TensorSpec[] Outputs) Describe(TensorSpec[] decoderInputs, TensorSpec[] decoderOutputs)
    {
        if (!DecoderLayout.IsDecoder(decoderInputs.Select(i => i.Name)) || !Array.Exists(decoderOutputs, o => o.Name == "logits"))
        {
            throw new ArgumentException(
                $"a generation model needs a decoder in the Optimum layout (inputs input_ids, attention_mask, {DecoderLayout.FirstPastKey}, ...; output " +
                    $"logits); this one has inputs {string.Join(", ", decoderInputs.Select(i => i.Name))}.");
        }

        return ([Text(TextInput)], [Text(TextOutput)]);
    }

    private static TensorSpec Text(string name) => new() { Name = name, ElementType = TensorElementType.String, Shape = [1] };
}
