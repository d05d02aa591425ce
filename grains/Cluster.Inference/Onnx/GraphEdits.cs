using System.Runtime.InteropServices;
using Cluster.Inference.Onnx.Proto;
using Google.Protobuf;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Onnx;

/// <summary>
/// Edits of an ONNX graph for its variants: reads float32 or float16 constants, also behind a <c>Cast</c> (the demo
/// models store weights as float16 and cast them), writes tensors and nodes, and drops what no node uses any more.
/// </summary>
internal static class GraphEdits
{
    /// <summary>The values of <paramref name="name"/> as float32 when it is a float initializer or a Cast of one; null otherwise.</summary>
    public static (float[] Values, long[] Dims)? FloatConstant(GraphProto graph, string name)
    {
        var initializer = graph.Initializer.FirstOrDefault(t => t.Name == name);
        if (initializer is not null)
        {
            return ReadFloats(initializer) is { } values ? (values, [.. initializer.Dims]) : null;
        }

        var cast = graph.Node.FirstOrDefault(n => n.OpType == "Cast" && n.Output.Contains(name));
        var castsToFloat = cast?.Attribute.Any(a => a.Name == "to" && a.I == (long)DataType.Float) == true;
        return castsToFloat ? FloatConstant(graph, cast!.Input[0]) : null;
    }

    /// <summary>
    /// The values of a float32 or float16 tensor as float32; null for any other element type, or when the file holds fewer
    /// values than the dimensions call for (data kept outside the model file).
    /// </summary>
    public static float[]? ReadFloats(TensorProto tensor)
    {
        float[]? values = (DataType)tensor.DataType switch
        {
            DataType.Float => tensor.RawData.IsEmpty ? [.. tensor.FloatData] : MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray(),
            DataType.Float16 => Array.ConvertAll(Halves(tensor), h => (float)h),
            _ => null,
        };
        return values is not null && values.LongLength == tensor.Dims.Aggregate(1L, (a, b) => a * b) ? values : null;
    }

    /// <summary>A tensor of <paramref name="type"/> holding <paramref name="littleEndianBytes"/>.</summary>
    public static TensorProto Tensor(string name, DataType type, ReadOnlySpan<byte> littleEndianBytes, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(littleEndianBytes) };
        tensor.Dims.Add(dims);
        return tensor;
    }

    /// <summary>A float16 tensor of <paramref name="values"/>.</summary>
    public static TensorProto Float16(string name, float[] values, IEnumerable<long> dims)
    {
        var halves = Array.ConvertAll(values, v => (System.Half)v);
        return Tensor(name, DataType.Float16, MemoryMarshal.AsBytes(halves.AsSpan()), [.. dims]);
    }

    /// <summary>A node with integer attributes.</summary>
    public static NodeProto Node(string opType, string name, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        node.Attribute.Add(attributes.Select(a => new AttributeProto { Name = a.Name, Type = AttributeProto.Types.AttributeType.Int, I = a.Value }));
        return node;
    }

    /// <summary>The default-domain opset <paramref name="model"/> imports (1 when it names none).</summary>
    public static long Opset(ModelProto model) => model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 1;

    /// <summary>Removes nodes whose outputs nothing reads, then initializers nothing reads.</summary>
    public static void Prune(GraphProto graph)
    {
        bool removed;
        do
        {
            var read = Read(graph);
            var dead = graph.Node.Where(n => !n.Output.Any(read.Contains)).ToList();
            removed = dead.Count > 0;
            foreach (var node in dead)
            {
                graph.Node.Remove(node);
            }
        }
        while (removed);

        var used = Read(graph);
        foreach (var initializer in graph.Initializer.Where(t => !used.Contains(t.Name)).ToList())
        {
            graph.Initializer.Remove(initializer);
        }
    }

    private static System.Half[] Halves(TensorProto tensor) => tensor.RawData.IsEmpty
        ? [.. tensor.Int32Data.Select(bits => BitConverter.UInt16BitsToHalf((ushort)bits))]
        : MemoryMarshal.Cast<byte, System.Half>(tensor.RawData.Span).ToArray();

    /// <summary>Every value a node or output of <paramref name="graph"/> reads, including inside subgraphs (If, Loop, Scan bodies).</summary>
    private static HashSet<string> Read(GraphProto graph) =>
        [.. graph.Node.SelectMany(n => n.Input), .. graph.Output.Select(o => o.Name), .. graph.Node.SelectMany(SubgraphReads)];

    private static IEnumerable<string> SubgraphReads(NodeProto node) =>
        node.Attribute.SelectMany(a => a.Graphs.Append(a.G)).Where(g => g is not null).SelectMany(Read);
}
