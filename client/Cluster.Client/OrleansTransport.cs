using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;

namespace Cluster.Client;

/// <summary>Grain calls: the registry for the catalogue, replica 0 of the model version for requests.</summary>
internal sealed class OrleansTransport(IGrainFactory grains) : IInferenceTransport
{
    public IGrainFactory Grains => grains;

    public Task<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken) =>
        Replica(target).InferAsync(request, cancellationToken);

    public Task<ModelTarget> ResolveAsync(string model, long? version) => grains.GetGrain<IModelRegistryGrain>(0).ResolveAsync(model, version);

    public Task<ModelDescriptor[]> GetModelsAsync() => grains.GetGrain<IModelRegistryGrain>(0).GetModelsAsync();

    public Task<ModelStatistics> GetStatisticsAsync(ModelTarget target) => Replica(target).GetStatisticsAsync();

    private IModelBatcherGrain Replica(ModelTarget target) =>
        grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(target.Model, target.Version.Version, 0).ToString());
}
