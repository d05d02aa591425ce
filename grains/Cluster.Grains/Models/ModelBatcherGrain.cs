using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Grains.Devices;
using Cluster.Inference.Devices;
using Cluster.Inference.Tensors;

namespace Cluster.Grains.Models;

/// <summary>
/// A replica of one model version (<c>{model}:{version}/{replica}</c>). It validates each request and
/// runs it on a device of its own silo. Requests run one at a time here; dynamic batching plugs in
/// between validation and dispatch.
/// </summary>
public sealed class ModelBatcherGrain(LocalDevices localDevices, ILocalSiloDetails localSilo) : Grain, IModelBatcherGrain
{
    private ReplicaKey _key;
    private ModelTarget? _target;
    private IDeviceGrain? _device;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ReplicaKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<InferenceResponse> InferAsync(InferenceRequest request)
    {
        var (target, device) = await EnsureReadyAsync();
        var outputNames = InputValidator.Validate(target.Model, target.Config, target.Version, request);
        var inputs = OrderAsModel(target.Version, request);
        var outputs = await device.RunAsync(target.Model, target.Version.Version, inputs, outputNames);
        return new InferenceResponse { Model = target.Model, Version = target.Version.Version, Id = request.Id, Outputs = outputs };
    }

    private async Task<(ModelTarget Target, IDeviceGrain Device)> EnsureReadyAsync()
    {
        if (_target is not null && _device is not null)
        {
            return (_target, _device);
        }

        var target = await GrainFactory.GetGrain<IModelRegistryGrain>(0).ResolveAsync(_key.Model, _key.Version);
        var device = ChooseDevice(target);
        var grain = GrainFactory.GetGrain<IDeviceGrain>(new DeviceKey(localSilo.Name, device.Name).ToString());
        await grain.LoadModelAsync(target.Model, target.Version.Version);
        (_target, _device) = (target, grain);
        return (target, grain);
    }

    /// <summary>The best healthy local device the model allows: a GPU first, then the CPU, then a simulated one.</summary>
    private DeviceDescriptor ChooseDevice(ModelTarget target)
    {
        DeviceDescriptor? best = null;
        foreach (var device in localDevices.All)
        {
            if (device.Health == DeviceHealth.Healthy && target.Config.AllowsDeviceKind(device.Kind)
                && (best is null || Preference(device) < Preference(best)))
            {
                best = device;
            }
        }

        return best ?? throw new ModelUnavailableException(
            $"Model '{target.Model}' version {target.Version.Version} allows device kinds [{string.Join(", ", target.Config.DeviceKinds)}] but silo '{localSilo.Name}' has no healthy device of those kinds; its devices: {string.Join(", ", localDevices.All.Select(d => $"{d.Name} ({d.Health})"))}.");
    }

    private static int Preference(DeviceDescriptor device) => device.Kind switch
    {
        "cuda" => 0,
        "cpu" => 1,
        _ => 2,
    };

    private static Contracts.Tensors.TensorData[] OrderAsModel(ModelVersionDescriptor version, InferenceRequest request)
    {
        var ordered = new Contracts.Tensors.TensorData[version.Inputs.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            ordered[i] = Array.Find(request.Inputs, t => t.Name == version.Inputs[i].Name)!;
        }

        return ordered;
    }
}
