using Cluster.Inference.Onnx.Proto;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Onnx;

/// <summary>
/// The FP16 variant of a float32 model: every float32 constant (initializers, <c>Constant</c> nodes) becomes
/// float16, casts to float32 become casts to float16, and the model's float32 inputs and outputs keep their type
/// through a <c>Cast</c> at each, so callers send and receive the same tensors as with the FP32 file.
/// </summary>
public static class Fp16Converter
{
    private const string Suffix = "_fp16";

    /// <summary>
    /// A copy of <paramref name="model"/> computing in float16 behind float32 inputs and outputs; throws
    /// <see cref="ArgumentException"/> for a tensor whose data is kept outside the model file.
    /// </summary>
    public static ModelProto Convert(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var variant = model.Clone();
        var graph = variant.Graph;
        for (var i = 0; i < graph.Initializer.Count; i++)
        {
            var initializer = graph.Initializer[i];
            if (initializer.DataType == (int)DataType.Float)
            {
                var values = GraphEdits.ReadFloats(initializer) ?? throw External(initializer.Name);
                graph.Initializer[i] = GraphEdits.Float16(initializer.Name, values, initializer.Dims);
            }
        }

        foreach (var node in graph.Node)
        {
            ToFloat16(node);
        }

        // Intermediate shapes and types were float32; ONNX Runtime infers them again.
        graph.ValueInfo.Clear();
        var casts = new List<NodeProto>();
        foreach (var input in graph.Input.Where(IsFloat))
        {
            Rename(graph, input.Name, input.Name + Suffix, inputsOnly: true);
            casts.Add(GraphEdits.Node("Cast", input.Name + "_to_fp16", [input.Name], [input.Name + Suffix], ("to", (long)DataType.Float16)));
        }

        for (var i = 0; i < casts.Count; i++)
        {
            graph.Node.Insert(i, casts[i]);
        }

        foreach (var output in graph.Output.Where(IsFloat))
        {
            Rename(graph, output.Name, output.Name + Suffix, inputsOnly: false);
            graph.Node.Add(GraphEdits.Node("Cast", output.Name + "_to_fp32", [output.Name + Suffix], [output.Name], ("to", (long)DataType.Float)));
        }

        variant.DocString = $"{model.DocString} FP16 variant: float16 weights and compute, float32 inputs and outputs.".TrimStart();
        return variant;
    }

    private static void ToFloat16(NodeProto node)
    {
        foreach (var attribute in node.Attribute)
        {
            if (node.OpType == "Cast" && attribute.Name == "to" && attribute.I == (long)DataType.Float)
            {
                attribute.I = (long)DataType.Float16;
            }
            else if (attribute.T is { DataType: (int)DataType.Float } tensor)
            {
                attribute.T = GraphEdits.Float16(tensor.Name, GraphEdits.ReadFloats(tensor) ?? throw External(tensor.Name), tensor.Dims);
            }
        }
    }

    /// <summary>Renames a value where nodes read it (and, unless <paramref name="inputsOnly"/>, where a node writes it).</summary>
    private static void Rename(GraphProto graph, string from, string to, bool inputsOnly)
    {
        foreach (var node in graph.Node)
        {
            Replace(node.Input, from, to);
            if (!inputsOnly)
            {
                Replace(node.Output, from, to);
            }
        }
    }

    private static void Replace(Google.Protobuf.Collections.RepeatedField<string> names, string from, string to)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == from)
            {
                names[i] = to;
            }
        }
    }

    private static ArgumentException External(string tensor) =>
        new($"Tensor '{tensor}' keeps its data outside the model file; only self-contained models are converted.");

    private static bool IsFloat(ValueInfoProto value) => value.Type?.TensorType?.ElemType == (int)DataType.Float;
}
