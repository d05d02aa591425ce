using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>The catalogue of models (singleton, key 0): what the repository holds and which versions are served.</summary>
public interface IModelRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Every model, including those that failed to load (with their errors).</summary>
    Task<ModelDescriptor[]> GetModelsAsync();

    /// <summary>
    /// The model version a request should use: <paramref name="version"/> if given, otherwise the newest
    /// served. Throws ModelNotFoundException for unknown models or versions, ModelUnavailableException for
    /// ones that cannot be served.
    /// </summary>
    Task<ModelTarget> ResolveAsync(string model, long? version);

    /// <summary>Reads the repository again.</summary>
    Task RescanAsync();

    /// <summary>
    /// Loads a model (reading its folder again) or unloads it; an unloaded model answers requests with
    /// ModelUnavailableException until loaded again. Returns the model as now catalogued.
    /// </summary>
    Task<ModelDescriptor> SetLoadedAsync(string model, bool loaded);
}
