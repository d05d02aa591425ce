using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Devices;
using Cluster.Grains.Placement;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Models;

/// <summary>
/// Where one replica runs on its silo: the local devices its model may use, the device it loaded on (preferred
/// while healthy), failover of a batch to another healthy device, and every device it used (its model is unloaded
/// there when the replica retires). Used on the replica's activation, except <see cref="RunAsync"/>: a batch for the
/// healthy device the replica loaded on and still runs on goes to it from the batcher's thread, straight to the device's
/// sessions while they are loaded (<paramref name="sessionPools"/>); any other (a failover, a move back) takes a turn on the
/// activation through <paramref name="onActivation"/>, where the device state changes.
/// </summary>
internal sealed partial class ReplicaDevices(
    ReplicaKey key,
    LocalDevices localDevices,
    LocalSessionPools sessionPools,
    string silo,
    IGrainFactory grains,
    Func<Func<Task<BatchResult>>, Task<BatchResult>> onActivation,
    ILogger logger)
{
    /// <summary>The devices the replica has run on, with their grain references (made once: a lookup by string formats the interface's type name).</summary>
    private readonly Dictionary<string, IDeviceGrain> _used = [];
    private string? _preferred;

    /// <summary>The device the replica loaded on, which a batch reaches off the activation while it is healthy and current.</summary>
    private volatile LoadedDevice? _loaded;
    private volatile string? _current;

    /// <summary>The key of the device the replica loaded on or last ran a batch on; null before it loaded.</summary>
    public string? Current
    {
        get => _current;
        private set => _current = value;
    }

    /// <summary>The model variant the current device serves (<c>fp32</c>, <c>fp16</c>, <c>int8</c>); null before the replica loaded.</summary>
    public string? Variant { get; private set; }

    /// <summary>The device grains the replica has used.</summary>
    public IEnumerable<IDeviceGrain> Used => _used.Values;

    /// <summary>The local devices the model may use (<see cref="DevicePreference"/>); throws when there are none.</summary>
    public string[] Eligible(ModelTarget target)
    {
        var eligible = EligibleDescriptors(target);
        return eligible.Count > 0 ? [.. eligible.Select(d => d.Name)] : throw NoHealthyDevice(target);
    }

    /// <summary>Loads the model (in the target's session pool) on local device <paramref name="device"/>, which becomes the preferred one.</summary>
    public async Task LoadAsync(ModelTarget target, string device)
    {
        var deviceKey = new DeviceKey(silo, device).ToString();
        var grain = Device(deviceKey);
        Variant = await grain.LoadModelAsync(target.Model, target.Version.Version, key.ToString(), target.SessionPool);
        _preferred = device;
        Current = deviceKey;
        _loaded = new LoadedDevice(deviceKey, grain, localDevices.Find(device)!, grain.QuarantineAsync);
    }

    /// <summary>
    /// Runs a batch on the replica's device, or the best other healthy one while it is out of service; when
    /// the device fails or hangs (and so takes itself out of service) the batch runs once more on another.
    /// That is safe: a failed batch answered no caller. Thread-safe.
    /// </summary>
    public Task<BatchResult> RunAsync(ModelTarget target, TensorData[][] inputs, string[] outputNames) =>
        _loaded is { } loaded && _current == loaded.Key && localDevices.HealthOf(loaded.Descriptor).Health == DeviceHealth.Healthy
            ? RunOnLoadedAsync(loaded, target, inputs, outputNames)
            : onActivation(() => RunWithFailoverAsync(target, inputs, outputNames, failed: null));

    /// <summary>
    /// Runs a batch on the device the replica loaded on, off the activation: on its sessions when they are loaded (a fault there
    /// quarantines the device through its grain), else through its grain, which loads them. A fault moves the batch to the
    /// activation for the failover.
    /// </summary>
    private async Task<BatchResult> RunOnLoadedAsync(LoadedDevice loaded, ModelTarget target, TensorData[][] inputs, string[] outputNames)
    {
        var (model, version, pool) = (target.Model, target.Version.Version, target.SessionPool);
        try
        {
            return await (sessionPools.Find(loaded.Key, model, version, pool) is { } sessions
                ? sessions.RunAsync(inputs, outputNames, loaded.Quarantine)
                : Reaching(loaded.Grain.RunBatchAsync(model, version, inputs, outputNames, pool)));
        }
        catch (DeviceFaultException fault)
        {
            return await onActivation(() => RunWithFailoverAsync(target, inputs, outputNames, (loaded.Key, fault)));
        }
    }

    /// <summary>On the activation: runs a batch on the best healthy device, unless one already <paramref name="failed"/> it, then on another.</summary>
    private async Task<BatchResult> RunWithFailoverAsync(
        ModelTarget target,
        TensorData[][] inputs,
        string[] outputNames,
        (string Device, DeviceFaultException Fault)? failed)
    {
        if (failed is null)
        {
            var first = DeviceFor(target, avoid: null) ?? throw NoHealthyDevice(target);
            try
            {
                return await RunOnAsync(first, target, inputs, outputNames);
            }
            catch (DeviceFaultException fault)
            {
                failed = (first, fault);
            }
        }

        var (device, error) = failed.Value;
        var second = DeviceFor(target, avoid: device);
        if (second is null)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        LogBatchRetried(logger, key.Model, key.Version, device, second, error.Message);
        return await RunOnAsync(second, target, inputs, outputNames);
    }

    /// <summary>The device's grain, recorded as used by this replica.</summary>
    private IDeviceGrain Device(string deviceKey)
    {
        if (!_used.TryGetValue(deviceKey, out var device))
        {
            device = grains.GetGrain<IDeviceGrain>(deviceKey);
            _used.Add(deviceKey, device);
        }

        return device;
    }

    private async Task<BatchResult> RunOnAsync(string deviceKey, ModelTarget target, TensorData[][] inputs, string[] outputNames)
    {
        if (deviceKey != Current)
        {
            // The batch moves to another device: the replica holds the model there too and reports that device's variant.
            Variant = await Reaching(Device(deviceKey).LoadModelAsync(target.Model, target.Version.Version, key.ToString(), target.SessionPool));
        }

        Current = deviceKey;
        return await Reaching(Device(deviceKey).RunBatchAsync(target.Model, target.Version.Version, inputs, outputNames, target.SessionPool));
    }

    /// <summary>A call to a device; when its grain could not be placed (its silo is leaving), the batch never ran and may be retried elsewhere.</summary>
    private async Task<T> Reaching<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (DeviceNotFoundException e)
        {
            throw new ReplicaNotStartedException($"Replica {key} could not reach its device ({e.Message}); the request did not run, retry it on another " +
                "replica.");
        }
    }

    /// <summary>The replica's own device while it is healthy, else another healthy eligible one (never <paramref name="avoid"/>); null when none.</summary>
    private string? DeviceFor(ModelTarget target, string? avoid)
    {
        var names = EligibleDescriptors(target).Select(d => new DeviceKey(silo, d.Name).ToString()).Where(k => k != avoid).ToList();
        var preferred = _preferred is null ? null : new DeviceKey(silo, _preferred).ToString();
        return names.Contains(preferred!) ? preferred : names.FirstOrDefault();
    }

    private List<Inference.Devices.DeviceDescriptor> EligibleDescriptors(ModelTarget target) =>
        DevicePreference.Eligible(localDevices.All, target.Config, d => d.Kind, d => localDevices.HealthOf(d).Health == DeviceHealth.Healthy);

    private ModelUnavailableException NoHealthyDevice(ModelTarget target)
    {
        var devices = string.Join(", ", localDevices.All.Select(d => $"{d.Name} ({localDevices.HealthOf(d).Health})"));
        return new($"Model '{target.Model}' version {target.Version.Version} allows device kinds [{string.Join(", ", target.Config.DeviceKinds)}] " +
            $"but silo '{silo}' has no healthy device of those kinds; its devices: {devices}.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Model}:{Version} failed on {Device} and runs again on {Other}: {Error}")]
    private static partial void LogBatchRetried(ILogger logger, string model, long version, string device, string other, string error);

    /// <summary>
    /// The device the replica loaded on: its key, grain, descriptor (whose health is read on every batch) and the grain's
    /// quarantine, called when a batch on its sessions faults or hangs.
    /// </summary>
    private sealed record LoadedDevice(string Key, IDeviceGrain Grain, Inference.Devices.DeviceDescriptor Descriptor, Func<string, Task> Quarantine);
}
