using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cluster.Inference.Generation;

/// <summary>Recognises a decoder in Hugging Face Optimum's ONNX layout and reads its dimensions.</summary>
public static class DecoderLayout
{
    /// <summary>The first layer's past key input: its presence marks a decoder.</summary>
    public const string FirstPastKey = "past_key_values.0.key";

    /// <summary>Whether a graph with these input names is a decoder with a KV cache.</summary>
    public static bool IsDecoder(IEnumerable<string> inputNames) => inputNames.Contains(FirstPastKey);

    /// <summary>Reads the shape, cache and logits element types and whether <c>position_ids</c> is an input; throws ArgumentException naming what is
    /// missing.</summary>
    public static (DecoderShape Shape, TensorElementType CacheType, TensorElementType LogitsType, bool HasPositionIds) Read(InferenceSession session,
        string path)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        foreach (var required in new[] { "input_ids", "attention_mask", FirstPastKey })
        {
            if (!inputs.ContainsKey(required))
            {
                throw new ArgumentException($"'{path}' is not a decoder in the Optimum layout: it has no input '{required}'.");
            }
        }

        if (!outputs.TryGetValue("logits", out var logits) || logits.Dimensions.Length != 3 || logits.Dimensions[2] <= 0)
        {
            throw new ArgumentException($"'{path}' is not a decoder in the Optimum layout: it needs an output 'logits' [batch, sequence, vocabulary] with a " +
                "fixed vocabulary size.");
        }

        var layers = 0;
        while (inputs.ContainsKey($"past_key_values.{layers}.key"))
        {
            foreach (var name in new[] { $"past_key_values.{layers}.value", $"present.{layers}.key", $"present.{layers}.value" })
            {
                if (!inputs.ContainsKey(name) && !outputs.ContainsKey(name))
                {
                    throw new ArgumentException($"'{path}' has past_key_values.{layers}.key but no '{name}'.");
                }
            }

            layers++;
        }

        var key = inputs[FirstPastKey];
        if (key.Dimensions.Length != 4 || key.Dimensions[1] <= 0 || key.Dimensions[3] <= 0)
        {
            throw new ArgumentException($"'{path}': {FirstPastKey} must be [batch, kv_heads, past, head_dim] with fixed kv_heads and head_dim.");
        }

        var type = key.ElementDataType;
        if (type is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ArgumentException($"'{path}': the KV cache is {type}; FP32 and FP16 are served.");
        }

        if (logits.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16))
        {
            throw new ArgumentException($"'{path}': logits are {logits.ElementDataType}; FP32 and FP16 are served.");
        }

        var shape = new DecoderShape(layers, key.Dimensions[1], key.Dimensions[3], logits.Dimensions[2], type == TensorElementType.Float ? 4 : 2);
        return (shape, type, logits.ElementDataType, inputs.ContainsKey("position_ids"));
    }
}
