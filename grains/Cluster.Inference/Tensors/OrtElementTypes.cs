using Cluster.Contracts.Tensors;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Cluster.Inference.Tensors;

/// <summary>Maps between the cluster's element types and ONNX Runtime's.</summary>
public static class OrtElementTypes
{
    /// <summary>ONNX Runtime's type for a cluster element type.</summary>
    public static OrtType ToOrt(this TensorElementType type) => type switch
    {
        TensorElementType.Bool => OrtType.Bool,
        TensorElementType.UInt8 => OrtType.UInt8,
        TensorElementType.UInt16 => OrtType.UInt16,
        TensorElementType.UInt32 => OrtType.UInt32,
        TensorElementType.UInt64 => OrtType.UInt64,
        TensorElementType.Int8 => OrtType.Int8,
        TensorElementType.Int16 => OrtType.Int16,
        TensorElementType.Int32 => OrtType.Int32,
        TensorElementType.Int64 => OrtType.Int64,
        TensorElementType.Float16 => OrtType.Float16,
        TensorElementType.BFloat16 => OrtType.BFloat16,
        TensorElementType.Float32 => OrtType.Float,
        TensorElementType.Float64 => OrtType.Double,
        TensorElementType.String => OrtType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "No ONNX Runtime element type."),
    };

    /// <summary>The cluster's type for an ONNX Runtime element type; Unknown when unsupported.</summary>
    public static TensorElementType FromOrt(OrtType type) => type switch
    {
        OrtType.Bool => TensorElementType.Bool,
        OrtType.UInt8 => TensorElementType.UInt8,
        OrtType.UInt16 => TensorElementType.UInt16,
        OrtType.UInt32 => TensorElementType.UInt32,
        OrtType.UInt64 => TensorElementType.UInt64,
        OrtType.Int8 => TensorElementType.Int8,
        OrtType.Int16 => TensorElementType.Int16,
        OrtType.Int32 => TensorElementType.Int32,
        OrtType.Int64 => TensorElementType.Int64,
        OrtType.Float16 => TensorElementType.Float16,
        OrtType.BFloat16 => TensorElementType.BFloat16,
        OrtType.Float => TensorElementType.Float32,
        OrtType.Double => TensorElementType.Float64,
        OrtType.String => TensorElementType.String,
        _ => TensorElementType.Unknown,
    };
}
