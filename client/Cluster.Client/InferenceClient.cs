using System.Collections.Concurrent;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Client;

/// <summary>
/// Runs models on the cluster. Resolves a model's version once and caches it briefly, then sends
/// each request straight to a model replica grain.
/// </summary>
public sealed class InferenceClient(IGrainFactory grains, TimeProvider? timeProvider = null)
{
    /// <summary>How long a resolved model version is reused before asking the registry again.</summary>
    public static readonly TimeSpan ResolutionLifetime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<(string Model, long? Version), (ModelTarget Target, DateTimeOffset Expires)> _resolved = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>
    /// Runs <paramref name="model"/> (the newest served version unless <paramref name="version"/> is given)
    /// on <paramref name="inputs"/>. Returns every output unless <paramref name="outputs"/> names some.
    /// Cancelling <paramref name="cancellationToken"/> takes a queued request out of the model's queue.
    /// Throws ModelNotFoundException, InvalidInputException, ModelUnavailableException, QueueFullException
    /// or InferenceTimeoutException with a message naming the fault.
    /// </summary>
    public async Task<InferenceResponse> InferAsync(
        string model,
        IReadOnlyList<TensorData> inputs,
        long? version = null,
        IReadOnlyList<string>? outputs = null,
        string id = "",
        InferOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        var target = await ResolveAsync(model, version);
        var request = new InferenceRequest
        {
            Id = id,
            Inputs = [.. inputs],
            RequestedOutputs = outputs is null ? [] : [.. outputs],
            Priority = options?.Priority ?? 0,
            TimeoutMicroseconds = options?.Timeout is { } timeout ? (long)timeout.TotalMicroseconds : 0,
            Deadline = options?.Deadline,
        };
        var replica = grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(target.Model, target.Version.Version, 0).ToString());
        return await replica.InferAsync(request, cancellationToken);
    }

    /// <summary>The statistics of a model version's replica, in Triton's shape.</summary>
    public async Task<ModelStatistics> GetStatisticsAsync(string model, long? version = null)
    {
        var target = await ResolveAsync(model, version);
        return await grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(target.Model, target.Version.Version, 0).ToString()).GetStatisticsAsync();
    }

    /// <summary>Every model in the repository with its versions, inputs and outputs.</summary>
    public Task<ModelDescriptor[]> GetModelsAsync() => grains.GetGrain<IModelRegistryGrain>(0).GetModelsAsync();

    /// <summary>The model version a request would use, with its inputs and outputs.</summary>
    public async Task<ModelTarget> ResolveAsync(string model, long? version = null)
    {
        var now = _time.GetUtcNow();
        if (_resolved.TryGetValue((model, version), out var cached) && cached.Expires > now)
        {
            return cached.Target;
        }

        var target = await grains.GetGrain<IModelRegistryGrain>(0).ResolveAsync(model, version);
        _resolved[(model, version)] = (target, now + ResolutionLifetime);
        return target;
    }

    /// <summary>Drops cached version resolutions, e.g. after a model was loaded or unloaded.</summary>
    public void ForgetResolutions() => _resolved.Clear();

    /// <summary>The status of one device, keyed <c>{silo}/{device}</c>.</summary>
    public Task<DeviceStatus> GetDeviceStatusAsync(string deviceKey) =>
        grains.GetGrain<IDeviceGrain>(DeviceKey.Parse(deviceKey).ToString()).GetStatusAsync();
}
