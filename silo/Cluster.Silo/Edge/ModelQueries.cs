using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;

namespace Cluster.Silo.Edge;

/// <summary>The questions about models both edge protocols answer: readiness, metadata and statistics.</summary>
public sealed class ModelQueries(InferenceClient client)
{
    /// <summary>Whether the model version resolves and a replica of it has loaded and warmed its sessions.</summary>
    public async Task<bool> IsReadyAsync(string model, string version)
    {
        try
        {
            return await client.IsReadyAsync(model, InferRequestRunner.ParseVersion(model, version));
        }
        catch (InferenceException)
        {
            return false;
        }
    }

    /// <summary>The model and its served versions; throws ModelNotFoundException.</summary>
    public async Task<(ModelDescriptor Model, ModelTarget Target)> MetadataAsync(string model, string version)
    {
        var target = await client.ResolveAsync(model, InferRequestRunner.ParseVersion(model, version));
        var descriptor = (await client.GetModelsAsync()).First(m => m.Name == target.Model);
        return (descriptor, target);
    }

    /// <summary>Statistics of one model version, of a model's served versions, or of every servable model when <paramref name="model"/> is empty.</summary>
    public async Task<IReadOnlyList<ModelStatistics>> StatisticsAsync(string model, string version)
    {
        var models = await client.GetModelsAsync();
        if (model.Length > 0 && !Array.Exists(models, m => m.Name == model))
        {
            throw new ModelNotFoundException($"Model '{model}' is not in the repository.");
        }

        var statistics = new List<ModelStatistics>();
        foreach (var descriptor in models)
        {
            if ((model.Length > 0 && descriptor.Name != model) || descriptor.Error is not null || descriptor.Unloaded)
            {
                continue;
            }

            foreach (var served in descriptor.ServedVersions)
            {
                if (served.IsLoadable && (version.Length == 0 || InferRequestRunner.ParseVersion(model, version) == served.Version))
                {
                    statistics.Add(await client.GetStatisticsAsync(descriptor.Name, served.Version));
                }
            }
        }

        return statistics;
    }
}
