namespace Cluster.Contracts.Tensors;

/// <summary>Facts about <see cref="TensorElementType"/> values.</summary>
public static class TensorElementTypes
{
    /// <summary>Bytes per element, or 0 for variable-length strings and unknown types.</summary>
    public static int SizeOf(this TensorElementType type) => type switch
    {
        TensorElementType.Bool or TensorElementType.UInt8 or TensorElementType.Int8 => 1,
        TensorElementType.UInt16 or TensorElementType.Int16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.UInt32 or TensorElementType.Int32 or TensorElementType.Float32 => 4,
        TensorElementType.UInt64 or TensorElementType.Int64 or TensorElementType.Float64 => 8,
        _ => 0,
    };

    /// <summary>The Open Inference Protocol datatype name (FP32, INT64, BYTES, ...).</summary>
    public static string ToProtocolName(this TensorElementType type) => type switch
    {
        TensorElementType.Bool => "BOOL",
        TensorElementType.UInt8 => "UINT8",
        TensorElementType.UInt16 => "UINT16",
        TensorElementType.UInt32 => "UINT32",
        TensorElementType.UInt64 => "UINT64",
        TensorElementType.Int8 => "INT8",
        TensorElementType.Int16 => "INT16",
        TensorElementType.Int32 => "INT32",
        TensorElementType.Int64 => "INT64",
        TensorElementType.Float16 => "FP16",
        TensorElementType.BFloat16 => "BF16",
        TensorElementType.Float32 => "FP32",
        TensorElementType.Float64 => "FP64",
        TensorElementType.String => "BYTES",
        _ => "UNKNOWN",
    };

    /// <summary>Parses an Open Inference Protocol datatype name; returns <see cref="TensorElementType.Unknown"/> when it is not one.</summary>
    public static TensorElementType FromProtocolName(string name) => name switch
    {
        "BOOL" => TensorElementType.Bool,
        "UINT8" => TensorElementType.UInt8,
        "UINT16" => TensorElementType.UInt16,
        "UINT32" => TensorElementType.UInt32,
        "UINT64" => TensorElementType.UInt64,
        "INT8" => TensorElementType.Int8,
        "INT16" => TensorElementType.Int16,
        "INT32" => TensorElementType.Int32,
        "INT64" => TensorElementType.Int64,
        "FP16" => TensorElementType.Float16,
        "BF16" => TensorElementType.BFloat16,
        "FP32" => TensorElementType.Float32,
        "FP64" => TensorElementType.Float64,
        "BYTES" => TensorElementType.String,
        _ => TensorElementType.Unknown,
    };
}
