namespace Cluster.Contracts.Admin;

/// <summary>Writes model variants into one silo's model repository (keyed and placed by the silo's name).</summary>
public interface IVariantWriterGrain : IGrainWithStringKey
{
    /// <summary>Writes the <paramref name="variant"/> (<c>int8</c> or <c>fp16</c>) of a version's <c>model.onnx</c> beside it, with its report.</summary>
    Task<VariantReport> WriteAsync(string model, long version, string variant);
}
