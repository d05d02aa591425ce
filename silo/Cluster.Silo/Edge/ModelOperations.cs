using Cluster.Client;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;

namespace Cluster.Silo.Edge;

/// <summary>The model questions and operations both edge protocols answer: readiness, metadata, statistics, load and unload.</summary>
public sealed class ModelOperations(InferenceClient client, IGrainFactory grains, ClusterReadiness readiness)
{
    /// <summary>Whether the model version resolves and a replica of it has loaded and warmed its sessions.</summary>
    public async Task<bool> IsReadyAsync(string model, string version)
    {
        try
        {
            return await client.IsReadyAsync(model, InferRequestMapper.ParseVersion(model, version));
        }
        catch (InferenceException)
        {
            return false;
        }
    }

    /// <summary>The model and its served versions; throws ModelNotFoundException.</summary>
    public async Task<(ModelDescriptor Model, ModelTarget Target)> MetadataAsync(string model, string version)
    {
        var target = await client.ResolveAsync(model, InferRequestMapper.ParseVersion(model, version));
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
                if (served.IsLoadable && (version.Length == 0 || InferRequestMapper.ParseVersion(model, version) == served.Version))
                {
                    statistics.Add(await client.GetStatisticsAsync(descriptor.Name, served.Version));
                }
            }
        }

        return statistics;
    }

    /// <summary>
    /// Loads (reading its folder again) and warms a model, or unloads it from every replica, through the
    /// cluster's admin API; the silo reports not ready while a load warms. An unload through the protocol is
    /// always carried out (as Triton does), so it is forced past the admin API's traffic checks.
    /// </summary>
    public async Task SetLoadedAsync(string model, bool loaded)
    {
        var admin = grains.GetGrain<IClusterAdminGrain>(0);
        if (!loaded)
        {
            await admin.UnloadAsync(model, version: null, force: true);
            client.ForgetResolutions();
            return;
        }

        // Not ready while the model warms: a load-balancer must not send its traffic here yet.
        readiness.BeginWarming();
        try
        {
            await admin.LoadAsync(model, version: null);
            client.ForgetResolutions();
            await admin.WarmAsync(model, version: null);
        }
        finally
        {
            readiness.EndWarming();
        }
    }
}
