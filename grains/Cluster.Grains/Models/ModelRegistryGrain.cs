using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Inference.Repository;

namespace Cluster.Grains.Models;

/// <summary>The catalogue of models, read from the model repository of the silo it runs on.</summary>
public sealed class ModelRegistryGrain(ModelRepository repository) : Grain, IModelRegistryGrain
{
    private Dictionary<string, ModelDescriptor> _models = [];

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken) => RescanAsync();

    /// <inheritdoc />
    public Task<ModelDescriptor[]> GetModelsAsync() => Task.FromResult(_models.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray());

    /// <inheritdoc />
    public Task<ModelTarget> ResolveAsync(string model, long? version)
    {
        if (!ModelName.IsValid(model))
        {
            throw new InvalidInputException(ModelName.Problem(model));
        }

        if (!_models.TryGetValue(model, out var descriptor))
        {
            throw NotFound(model);
        }

        if (descriptor.Unloaded)
        {
            throw new ModelUnavailableException($"Model '{model}' is unloaded; load it again through the repository API.");
        }

        if (descriptor.Error is not null)
        {
            throw new ModelUnavailableException($"Model '{model}' cannot be served: {descriptor.Error}");
        }

        var served = descriptor.ServedVersions;
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

        return Task.FromResult(new ModelTarget { Model = model, Config = descriptor.Config, Version = chosen });
    }

    /// <inheritdoc />
    public Task RescanAsync()
    {
        var unloaded = _models.Values.Where(m => m.Unloaded).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        _models = repository.Scan().ToDictionary(m => m.Name, m => m with { Unloaded = unloaded.Contains(m.Name) }, StringComparer.Ordinal);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> SetLoadedAsync(string model, bool loaded)
    {
        if (!ModelName.IsValid(model))
        {
            throw new InvalidInputException(ModelName.Problem(model));
        }

        var descriptor = loaded
            ? repository.Read(model)
            : _models.TryGetValue(model, out var known)
                ? known with { Unloaded = true }
                : throw NotFound(model);
        _models[model] = descriptor;
        return Task.FromResult(descriptor);
    }

    private ModelNotFoundException NotFound(string model) =>
        new($"Model '{model}' is not in the repository; models: {string.Join(", ", _models.Keys.Order(StringComparer.Ordinal))}.");
}
