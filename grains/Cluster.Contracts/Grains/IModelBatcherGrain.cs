using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>
/// A replica of one model version, keyed <c>{model}:{version}/{replica}</c>: it validates requests and
/// runs them on a device of its own silo.
/// </summary>
public interface IModelBatcherGrain : IGrainWithStringKey
{
    /// <summary>Runs one request.</summary>
    Task<InferenceResponse> InferAsync(InferenceRequest request);
}
