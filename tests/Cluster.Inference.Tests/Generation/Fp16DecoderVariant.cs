using Cluster.Inference.Onnx.Proto;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Tests.Generation;

/// <summary>
/// The demo decoder with FP16 inputs and outputs (past and present caches, logits), as an FP16 Optimum export
/// has them: every such tensor goes through a Cast at the graph's edge, the computation inside stays FP32.
/// </summary>
internal static class Fp16DecoderVariant
{
    public static ModelProto From(ModelProto model)
    {
        var graph = model.Graph;
        var casts = new List<NodeProto>();
        foreach (var input in graph.Input.Where(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)))
        {
            var inner = input.Name + "_fp32";
            Rename(graph, input.Name, inner, inputsOnly: true);
            input.Type.TensorType.ElemType = (int)DataType.Float16;
            casts.Add(Cast(input.Name, inner, DataType.Float));
        }

        var outputCasts = new List<NodeProto>();
        foreach (var output in graph.Output.Where(o => o.Name == "logits" || o.Name.StartsWith("present.", StringComparison.Ordinal)))
        {
            var inner = output.Name + "_fp32";
            Rename(graph, output.Name, inner, inputsOnly: false);
            output.Type.TensorType.ElemType = (int)DataType.Float16;
            outputCasts.Add(Cast(inner, output.Name, DataType.Float16));
        }

        var nodes = casts.Concat(graph.Node).Concat(outputCasts).ToList();
        graph.Node.Clear();
        graph.Node.Add(nodes);
        return model;
    }

    /// <summary>Renames a value wherever nodes read it (and, for an output, where its node writes it).</summary>
    private static void Rename(GraphProto graph, string from, string to, bool inputsOnly)
    {
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == from)
                {
                    node.Input[i] = to;
                }
            }

            for (var i = 0; i < node.Output.Count && !inputsOnly; i++)
            {
                if (node.Output[i] == from)
                {
                    node.Output[i] = to;
                }
            }
        }
    }

    private static NodeProto Cast(string input, string output, DataType to)
    {
        var node = new NodeProto { OpType = "Cast", Name = $"cast_{output}" };
        node.Input.Add(input);
        node.Output.Add(output);
        node.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)to });
        return node;
    }
}
