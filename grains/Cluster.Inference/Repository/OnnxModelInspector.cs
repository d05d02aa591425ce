using Cluster.Contracts.Models;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Repository;

/// <summary>Reads a model's inputs and outputs from its ONNX file with ONNX Runtime (Triton's auto-complete).</summary>
public static class OnnxModelInspector
{
    /// <summary>The declared inputs and outputs; throws <see cref="OnnxRuntimeException"/> when ONNX Runtime cannot load the file.</summary>
    public static (TensorSpec[] Inputs, TensorSpec[] Outputs) Inspect(string onnxPath)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(onnxPath, options);
        return (Specs(session.InputNames, session.InputMetadata), Specs(session.OutputNames, session.OutputMetadata));
    }

    /// <summary>The specs of the named tensors, in the given order.</summary>
    public static TensorSpec[] Specs(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var specs = new TensorSpec[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var node = metadata[names[i]];
            var shape = new long[node.Dimensions.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = node.Dimensions[d] < 0 ? -1 : node.Dimensions[d];
            }

            specs[i] = new TensorSpec { Name = names[i], ElementType = OrtElementTypes.FromOrt(node.ElementDataType), Shape = shape };
        }

        return specs;
    }
}
