using Cluster.Contracts.Admin;
using Cluster.Grains.Placement;
using Cluster.Inference.Repository;

namespace Cluster.Grains.Admin;

/// <summary>
/// Writes a variant into this silo's model repository (<see cref="VariantWriter"/>); the conversion and the accuracy runs
/// take a thread-pool thread, not the silo's scheduler.
/// </summary>
[SiloNamePlacement]
public sealed class VariantWriterGrain(ModelRepository repository, ILocalSiloDetails localSilo) : Grain, IVariantWriterGrain
{
    /// <inheritdoc />
    public async Task<VariantReport> WriteAsync(string model, long version, string variant) =>
        await Task.Run(() => VariantWriter.Write(repository, model, version, variant, localSilo.Name));
}
