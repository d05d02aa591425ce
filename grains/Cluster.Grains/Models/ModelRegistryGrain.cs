using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Grains.State;
using Cluster.Inference.Repository;

namespace Cluster.Grains.Models;

/// <summary>
/// The catalogue of models, read from the model repository of the silo it runs on, with the operator's
/// decisions applied. Decisions are written to grain storage before they take effect, so a restart keeps
/// them and a failed write changes nothing.
/// </summary>
public sealed partial class ModelRegistryGrain(
    ModelRepository repository,
    [PersistentState("catalog", ClusterState.StorageName)] IPersistentState<CatalogIntent> intent) : Grain, IModelRegistryGrain
{
    /// <summary>Models as read from disk, before the operator's decisions.</summary>
    private Dictionary<string, ModelDescriptor> _scanned = [];

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await RescanAsync();

        // After a restart the guard rails of the experiments still running are checked again.
        foreach (var model in intent.State.Models.Where(m => m.Value.Experiment is not null).Select(m => m.Key))
        {
            await GrainFactory.GetGrain<IExperimentGrain>(model).WatchAsync();
        }
    }

    /// <inheritdoc />
    public Task<ModelDescriptor[]> GetModelsAsync() =>
        Task.FromResult(_scanned.Keys.Order(StringComparer.Ordinal).Select(Catalogued).ToArray());

    /// <inheritdoc />
    public Task<ModelTarget> ResolveAsync(string model, long? version)
    {
        var descriptor = Find(model);
        if (descriptor.Unloaded)
        {
            throw new ModelUnavailableException($"Model '{model}' is unloaded; load it again through the repository API.");
        }

        if (descriptor.Error is not null)
        {
            throw new ModelUnavailableException($"Model '{model}' cannot be served: {descriptor.Error}");
        }

        var served = descriptor.ServedVersions;
        var experiment = version is null ? descriptor.Experiment : null;
        version ??= experiment?.Control.Version;
        var split = version is null ? descriptor.TrafficSplit : [];
        version ??= split.Length > 0 ? TrafficSplit.Choose(split, Random.Shared.NextDouble()) : null;
        var chosen = version is null ? served.FirstOrDefault(v => v.IsLoadable) ?? served.FirstOrDefault() : Array.Find(served, v => v.Version == version);
        if (chosen is null)
        {
            throw new ModelNotFoundException(version is null
                ? $"Model '{model}' has no served version."
                : $"Model '{model}' has no served version {version}; served versions: {string.Join(", ", served.Select(v => v.Version))}.");
        }

        if (!chosen.IsLoadable)
        {
            throw new ModelUnavailableException($"Model '{model}' version {chosen.Version} cannot be served: {chosen.Error}");
        }

        return Task.FromResult(new ModelTarget { Model = model, Config = descriptor.Config, Version = chosen, TrafficSplit = split, Experiment = experiment });
    }

    /// <inheritdoc />
    public Task RescanAsync()
    {
        _scanned = repository.Scan().ToDictionary(m => m.Name, StringComparer.Ordinal);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetLoadedAsync(string model, bool loaded)
    {
        if (loaded)
        {
            Reread(model);
        }

        Find(model);
        return DecideAsync(model, current => current with { Unloaded = !loaded });
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetVersionLoadedAsync(string model, long version, bool loaded)
    {
        var descriptor = loaded ? Reread(model) : Find(model);
        if (descriptor.Error is not null)
        {
            throw new OperationRefusedException($"Model '{model}' cannot be served: {descriptor.Error}");
        }

        var onDisk = Array.Find(descriptor.Versions, v => v.Version == version)
            ?? throw new ModelNotFoundException($"Model '{model}' has no version {version}; " +
                $"versions: {string.Join(", ", descriptor.Versions.Select(v => v.Version))}.");
        if (loaded && !onDisk.IsLoadable)
        {
            throw new OperationRefusedException($"Model '{model}' version {version} cannot be served: {onDisk.Error}");
        }

        var served = descriptor.Unloaded ? [] : descriptor.ServedVersions.Select(v => v.Version).ToList();
        if (loaded)
        {
            served.Add(version);
        }
        else
        {
            served.Remove(version);
        }

        var policy = VersionPolicy.Specific([.. served.Distinct().OrderDescending()]);
        return DecideAsync(model, current => current with
        {
            Unloaded = loaded ? false : current.Unloaded,
            VersionPolicy = policy,
            TrafficSplit = loaded ? current.TrafficSplit : TrafficSplit.Without(current.TrafficSplit, [version]),
        });
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetVersionPolicyAsync(string model, VersionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var descriptor = Find(model);
        if (policy.Kind == VersionPolicyKind.Latest && policy.LatestCount < 1)
        {
            throw new OperationRefusedException($"Version policy of model '{model}': latest needs a count of at least 1, not {policy.LatestCount}.");
        }

        var missing = policy.Versions.Where(v => !Array.Exists(descriptor.Versions, d => d.Version == v)).ToArray();
        if (policy.Kind == VersionPolicyKind.Specific && (policy.Versions.Length == 0 || missing.Length > 0))
        {
            throw new OperationRefusedException(
                $"Version policy of model '{model}': specific needs versions of the model ({string.Join(", ", descriptor.Versions.Select(v => v.Version))}); " +
                    $"not found: {string.Join(", ", missing)}.");
        }

        var served = policy.Select(descriptor.Versions.Select(v => v.Version).ToArray());
        return DecideAsync(model, current => current with
        {
            VersionPolicy = policy,
            TrafficSplit = TrafficSplit.Without(current.TrafficSplit, current.TrafficSplit.Select(w => w.Version).Except(served).ToArray()),
        });
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetTrafficSplitAsync(string model, VersionWeight[] split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var descriptor = Find(model);
        var servable = descriptor.Unloaded || descriptor.Error is not null
            ? []
            : descriptor.ServedVersions.Where(v => v.IsLoadable).Select(v => v.Version).ToArray();
        if (TrafficSplit.Problem(model, split, servable) is { } problem)
        {
            throw new OperationRefusedException(problem);
        }

        return DecideAsync(model, current => current with { TrafficSplit = [.. split.Where(w => w.Percent > 0)] });
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetReplicaBoundsAsync(string model, int min, int max)
    {
        Find(model);
        if (min < 0 || max < 1 || min > max)
        {
            throw new OperationRefusedException($"Replica bounds of model '{model}': need 0 <= min <= max and max >= 1; given min {min}, max {max}.");
        }

        return DecideAsync(model, current => current with { MinReplicas = min, MaxReplicas = max });
    }

    /// <summary>Saves the changed decision about <paramref name="model"/>, then applies it; on a failed write nothing changes.</summary>
    private async Task<ModelDescriptor> DecideAsync(string model, Func<ModelIntent, ModelIntent> change)
    {
        var previous = intent.State;
        var models = new Dictionary<string, ModelIntent>(previous.Models, StringComparer.Ordinal);
        models[model] = change(models.GetValueOrDefault(model) ?? new ModelIntent());
        intent.State = new CatalogIntent { Models = models };
        try
        {
            await intent.WriteStateAsync();
        }
        catch (Exception e) when (e is not InferenceException)
        {
            intent.State = previous;
            throw new ClusterStateException($"The decision about model '{model}' could not be saved, so nothing changed: {e.Message}");
        }

        return Catalogued(model);
    }

    private ModelDescriptor Catalogued(string model)
    {
        var scanned = _scanned[model];
        return intent.State.Models.TryGetValue(model, out var decided) ? decided.ApplyTo(scanned) : scanned;
    }

    private ModelDescriptor Find(string model)
    {
        if (!ModelName.IsValid(model))
        {
            throw new InvalidInputException(ModelName.Problem(model));
        }

        return _scanned.ContainsKey(model) ? Catalogued(model) : throw NotFound(model);
    }

    /// <summary>Reads the model's folder again (it may be new); throws when the repository has no such model.</summary>
    private ModelDescriptor Reread(string model)
    {
        if (!ModelName.IsValid(model))
        {
            throw new InvalidInputException(ModelName.Problem(model));
        }

        _scanned[model] = repository.Read(model);
        return Catalogued(model);
    }

    private ModelNotFoundException NotFound(string model) =>
        new($"Model '{model}' is not in the repository; models: {string.Join(", ", _scanned.Keys.Order(StringComparer.Ordinal))}.");
}
