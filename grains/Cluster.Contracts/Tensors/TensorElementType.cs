namespace Cluster.Contracts.Tensors;

/// <summary>Element types a tensor can carry; the names follow the Open Inference Protocol datatypes.</summary>
public enum TensorElementType
{
    /// <summary>Unknown or unsupported.</summary>
    Unknown = 0,
    Bool,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Int8,
    Int16,
    Int32,
    Int64,
    Float16,
    BFloat16,
    Float32,
    Float64,
    /// <summary>UTF-8 strings; each element on the wire is a 4-byte little-endian length followed by its bytes.</summary>
    String,
}
