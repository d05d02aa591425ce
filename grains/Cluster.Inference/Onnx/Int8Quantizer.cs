using System.Runtime.InteropServices;
using Cluster.Inference.Onnx.Proto;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Onnx;

/// <summary>
/// Dynamic INT8 quantisation of a float32 model's MatMul and Gemm nodes whose weight is a constant matrix: the
/// weight is stored as int8 with one symmetric scale per output column, the activation is quantised at run time
/// (<c>DynamicQuantizeLinear</c>), the product runs in integers (<c>MatMulInteger</c>) and is scaled back to float32
/// — the pattern ONNX Runtime fuses into one quantised kernel. Other nodes, and Gemm nodes with a transposed
/// activation or alpha/beta other than 1, stay float32.
/// </summary>
public static class Int8Quantizer
{
    /// <summary>A copy of <paramref name="model"/> with its constant-weight MatMul and Gemm nodes in INT8, and how many were converted.</summary>
    public static (ModelProto Model, int Quantized) Quantize(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (GraphEdits.Opset(model) < 11)
        {
            throw new ArgumentException($"The model imports opset {GraphEdits.Opset(model)}; an INT8 variant needs opset 11 or later (DynamicQuantizeLinear).");
        }

        var variant = model.Clone();
        var graph = variant.Graph;
        var quantized = 0;
        foreach (var node in graph.Node.ToList())
        {
            if (Weight(graph, node) is not { } weight)
            {
                continue;
            }

            var replacement = Replace(graph, node, weight.Values, weight.K, weight.N);
            var at = graph.Node.IndexOf(node);
            graph.Node.RemoveAt(at);
            for (var i = replacement.Count - 1; i >= 0; i--)
            {
                graph.Node.Insert(at, replacement[i]);
            }

            quantized++;
        }

        GraphEdits.Prune(graph);
        variant.DocString = $"{model.DocString} INT8 variant: {quantized} MatMul/Gemm weight(s) per output channel.".TrimStart();
        return (variant, quantized);
    }

    /// <summary>The node's weight as a [K,N] row-major matrix when it is constant and the node can be quantised.</summary>
    private static (float[] Values, int K, int N)? Weight(GraphProto graph, NodeProto node)
    {
        var isGemm = node.OpType == "Gemm";
        if ((node.OpType != "MatMul" && !isGemm) || node.Input.Count < 2)
        {
            return null;
        }

        if (isGemm && (Attribute(node, "transA", 0) != 0 || FloatAttribute(node, "alpha") != 1f || FloatAttribute(node, "beta") != 1f))
        {
            return null;
        }

        if (GraphEdits.FloatConstant(graph, node.Input[1]) is not { Dims.Length: 2 } weight)
        {
            return null;
        }

        int rows = (int)weight.Dims[0], columns = (int)weight.Dims[1];
        return isGemm && Attribute(node, "transB", 0) != 0 ? (Transpose(weight.Values, rows, columns), columns, rows) : (weight.Values, rows, columns);
    }

    private static List<NodeProto> Replace(GraphProto graph, NodeProto node, float[] weight, int k, int n)
    {
        var (quantizedWeight, scales) = PerColumn(weight, k, n);
        var prefix = $"{node.Output[0]}_int8";
        graph.Initializer.Add(GraphEdits.Tensor($"{prefix}_w", DataType.Int8, MemoryMarshal.AsBytes(quantizedWeight.AsSpan()), k, n));
        graph.Initializer.Add(GraphEdits.Tensor($"{prefix}_w_scale", DataType.Float, MemoryMarshal.AsBytes(scales.AsSpan()), n));
        var hasBias = node.OpType == "Gemm" && node.Input.Count > 2 && node.Input[2].Length > 0;
        var scaled = hasBias ? $"{prefix}_scaled" : node.Output[0];
        List<NodeProto> nodes =
        [
            GraphEdits.Node("DynamicQuantizeLinear", $"{prefix}_quantize", [node.Input[0]], [$"{prefix}_a", $"{prefix}_a_scale", $"{prefix}_a_zero"]),
            GraphEdits.Node("MatMulInteger", $"{prefix}_matmul", [$"{prefix}_a", $"{prefix}_w", $"{prefix}_a_zero"], [$"{prefix}_product"]),
            GraphEdits.Node("Cast", $"{prefix}_cast", [$"{prefix}_product"], [$"{prefix}_product_float"], ("to", (long)DataType.Float)),
            GraphEdits.Node("Mul", $"{prefix}_scale", [$"{prefix}_a_scale", $"{prefix}_w_scale"], [$"{prefix}_scales"]),
            GraphEdits.Node("Mul", $"{prefix}_rescale", [$"{prefix}_product_float", $"{prefix}_scales"], [scaled]),
        ];
        if (hasBias)
        {
            nodes.Add(GraphEdits.Node("Add", $"{prefix}_bias", [scaled, node.Input[2]], [node.Output[0]]));
        }

        return nodes;
    }

    /// <summary>A [K,N] weight as int8, symmetric per column: scale = max |w| / 127, so every weight maps into [-127, 127].</summary>
    public static (sbyte[] Weights, float[] Scales) PerColumn(float[] weight, int k, int n)
    {
        var scales = new float[n];
        for (var row = 0; row < k; row++)
        {
            for (var column = 0; column < n; column++)
            {
                scales[column] = MathF.Max(scales[column], MathF.Abs(weight[(row * n) + column]));
            }
        }

        for (var column = 0; column < n; column++)
        {
            scales[column] = scales[column] > 0 ? scales[column] / 127f : 1f;
        }

        var quantized = new sbyte[weight.Length];
        for (var i = 0; i < weight.Length; i++)
        {
            quantized[i] = (sbyte)Math.Clamp(MathF.Round(weight[i] / scales[i % n], MidpointRounding.ToEven), -127, 127);
        }

        return (quantized, scales);
    }

    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var transposed = new float[values.Length];
        for (var row = 0; row < rows; row++)
        {
            for (var column = 0; column < columns; column++)
            {
                transposed[(column * rows) + row] = values[(row * columns) + column];
            }
        }

        return transposed;
    }

    private static long Attribute(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    private static float FloatAttribute(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? 1f;
}
