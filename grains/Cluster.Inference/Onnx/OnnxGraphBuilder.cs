using System.Runtime.InteropServices;
using Cluster.Inference.Onnx.Proto;
using Google.Protobuf;

namespace Cluster.Inference.Onnx;

/// <summary>
/// Writes small ONNX graphs (standard ONNX bytes via the onnx.proto messages). Output is
/// deterministic: the same calls produce the same bytes.
/// </summary>
public sealed class OnnxGraphBuilder(string graphName)
{
    /// <summary>The ONNX IR version written.</summary>
    public const long IrVersion = 8;

    /// <summary>The default-domain opset written.</summary>
    public const long Opset = 17;

    private readonly GraphProto _graph = new() { Name = graphName };

    /// <summary>Declares a graph input; a null or negative dimension is dynamic.</summary>
    public OnnxGraphBuilder Input(string name, TensorProto.Types.DataType type, params long[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Declares a graph output; a negative dimension is dynamic.</summary>
    public OnnxGraphBuilder Output(string name, TensorProto.Types.DataType type, params long[] shape)
    {
        _graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds a float32 initializer.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<float> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims);

    /// <summary>Adds a float16 initializer.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<Half> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Float16, MemoryMarshal.AsBytes(values), dims);

    /// <summary>Adds an int64 initializer.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<long> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values), dims);

    /// <summary>Adds an int32 initializer.</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<int> values, params long[] dims) =>
        Initializer(name, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(values), dims);

    /// <summary>Adds a node; attributes are given as (name, value) with value an int, long, float or long[].</summary>
    public OnnxGraphBuilder Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        foreach (var (name, value) in attributes)
        {
            node.Attribute.Add(Attribute(name, value));
        }

        _graph.Node.Add(node);
        return this;
    }

    /// <summary>The finished model.</summary>
    public ModelProto Build(string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Cluster.Inference",
            ProducerVersion = "1",
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private OnnxGraphBuilder Initializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> littleEndianBytes, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(littleEndianBytes) };
        tensor.Dims.Add(dims);
        _graph.Initializer.Add(tensor);
        return this;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        for (var i = 0; i < shape.Length; i++)
        {
            tensorShape.Dim.Add(shape[i] >= 0
                ? new TensorShapeProto.Types.Dimension { DimValue = shape[i] }
                : new TensorShapeProto.Types.Dimension { DimParam = $"{name}_d{i}" });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        long l => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = l },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        long[] ints => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { ints } },
        _ => throw new ArgumentException($"Attribute '{name}' has unsupported type {value.GetType().Name}.", nameof(value)),
    };
}
