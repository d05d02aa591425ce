using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Placement;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Orleans.Placement;

namespace Cluster.Grains.Devices;

/// <summary>
/// Owns one device of its silo: its model sessions and the dedicated thread they run on. Pinned to
/// the silo its key names and never migrated, because the device it drives lives in that process.
/// </summary>
[SiloNamePlacement]
[Immovable]
public sealed class DeviceGrain(
    LocalDevices localDevices,
    ModelRepository repository,
    ILocalSiloDetails localSilo,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private readonly Dictionary<(string Model, long Version), ILoadedModel> _models = [];
    private DeviceKey _key;
    private DeviceDescriptor? _device;
    private DeviceExecutor? _executor;
    private long _batchesRun;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = DeviceKey.Parse(this.GetPrimaryKeyString());
        _device = _key.Silo == localSilo.Name ? localDevices.Find(_key.Device) : null;
        if (_device is not null)
        {
            _executor = new DeviceExecutor(_key.ToString());
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var model in _models.Values)
        {
            model.Dispose();
        }

        _models.Clear();
        _executor?.Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<DeviceStatus> GetStatusAsync()
    {
        var device = RequireDevice();
        long used = 0;
        var loaded = new List<string>();
        foreach (var (id, model) in _models)
        {
            used += model.WeightBytes;
            loaded.Add($"{id.Model}:{id.Version}");
        }

        return Task.FromResult(new DeviceStatus
        {
            Key = _key.ToString(),
            HostSilo = localSilo.Name,
            Kind = device.Kind,
            Health = device.Health,
            HealthReason = device.HealthReason,
            MemoryTotalBytes = device.MemoryTotalBytes,
            MemoryUsedBytes = used,
            LoadedModels = [.. loaded],
            BatchesRun = _batchesRun,
        });
    }

    /// <inheritdoc />
    public async Task LoadModelAsync(string model, long version) => await EnsureLoadedAsync(model, version);

    /// <inheritdoc />
    public Task UnloadModelAsync(string model, long version)
    {
        if (_models.Remove((model, version), out var loaded))
        {
            // Dispose on the device thread so it never races a run of the same session.
            _ = _executor!.RunAsync(() =>
            {
                loaded.Dispose();
                return true;
            });
            logger.LogInformation("Unloaded {Model}:{Version} from {Device}", model, version, _key);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<TensorData[]> RunAsync(string model, long version, TensorData[] inputs, string[] outputNames)
    {
        var loaded = await EnsureLoadedAsync(model, version);
        var outputs = await _executor!.RunAsync(() => loaded.Run(inputs, outputNames));
        _batchesRun++;
        return outputs;
    }

    private async Task<ILoadedModel> EnsureLoadedAsync(string model, long version)
    {
        if (_models.TryGetValue((model, version), out var loaded))
        {
            return loaded;
        }

        var device = RequireDevice();
        if (device.Health != DeviceHealth.Healthy)
        {
            throw new ModelUnavailableException($"Device '{_key}' is unhealthy and cannot load '{model}:{version}': {device.HealthReason}");
        }

        var target = await GrainFactory.GetGrain<IModelRegistryGrain>(0).ResolveAsync(model, version);
        var file = repository.ModelFile(model, version);
        try
        {
            loaded = await _executor!.RunAsync(() => Load(file, device, target));
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelUnavailableException($"Device '{_key}' cannot load '{model}:{version}' from {file}: {e.Message}");
        }

        _models[(model, version)] = loaded;
        logger.LogInformation("Loaded {Model}:{Version} on {Device}", model, version, _key);
        return loaded;
    }

    private static ILoadedModel Load(string file, DeviceDescriptor device, ModelTarget target) =>
        device.Simulation is { } profile
            ? new SimulatedModel(target.Version, profile, new FileInfo(file).Length)
            : new OnnxRuntimeModel(file, device);

    private DeviceDescriptor RequireDevice() =>
        _device ?? throw new DeviceNotFoundException(
            $"Device '{_key.Device}' is not a device of silo '{localSilo.Name}'; its devices are: {string.Join(", ", localDevices.All.Select(d => d.Name))}.");
}
