using System.Diagnostics;
using System.Runtime.CompilerServices;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Placement;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Generation;
using Cluster.Inference.Repository;
using Cluster.Inference.Telemetry;
using Cluster.Inference.Text;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Orleans.Concurrency;
using Orleans.Placement;

namespace Cluster.Grains.Devices;

/// <summary>
/// Owns one device of its silo: the session instances of the models loaded on it, each on its own
/// thread. Pinned to the silo its key names and never migrated, because the device it drives lives in
/// that process. Reentrant so several batches can run at once on different session instances.
/// </summary>
[SiloNamePlacement]
[Immovable]
[Reentrant]
public sealed partial class DeviceGrain(
    LocalDevices localDevices,
    ModelRepository repository,
    ILocalSiloDetails localSilo,
    DeviceUsageBoard usageBoard,
    ThroughputBoard throughputs,
    LocalDecoders decoders,
    LocalSessionPools sessionPools,
    TimeProvider time,
    InferenceMetrics metrics,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private readonly Dictionary<SessionsKey, Task<DeviceSessions>> _models = [];
    private readonly Dictionary<SessionsKey, HashSet<string>> _holders = [];
    private readonly Dictionary<SessionsKey, string> _variants = [];
    private readonly StrongBox<long> _batchesRun = new();
    private DeviceKey _key;
    private DeviceDescriptor? _device;
    private IGrainTimer? _probe;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = DeviceKey.Parse(this.GetPrimaryKeyString());
        _device = _key.Silo == localSilo.Name ? localDevices.Find(_key.Device) : null;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var (id, pool) in _models)
        {
            decoders.Remove(_key.ToString(), id.Model, id.Version, id.Pool);
            throughputs.Remove(_key.Device, id.Model, id.Version);
            UnloadWhenLoaded(pool);
        }

        _models.Clear();
        _holders.Clear();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<DeviceStatus> GetStatusAsync()
    {
        var device = RequireDevice();
        long used = 0;
        var loaded = new List<string>();
        foreach (var (id, pool) in _models)
        {
            if (pool.IsCompletedSuccessfully)
            {
                used += pool.Result.Pool.WeightBytes;
                loaded.Add(id.ToString());
            }
        }

        var (health, reason) = localDevices.HealthOf(device);
        return Task.FromResult(new DeviceStatus
        {
            Key = _key.ToString(),
            HostSilo = localSilo.Name,
            Kind = device.Kind,
            Health = health,
            HealthReason = reason,
            MemoryTotalBytes = device.MemoryTotalBytes,
            MemoryReservedBytes = device.MemoryReservedBytes,
            MemorySource = device.MemorySource,
            ComputeCapability = device.ComputeCapability,
            MemoryUsedBytes = used,
            Speed = device.Speed,
            MeasuredItemsPerSecond = throughputs.OnDevice(_key.Device),
            Variants = _variants.ToDictionary(v => v.Key.ToString(), v => v.Value, StringComparer.Ordinal),
            LoadedModels = [.. loaded],
            BatchesRun = Interlocked.Read(ref _batchesRun.Value),
        });
    }

    /// <inheritdoc />
    public async Task<string> LoadModelAsync(string model, long version, string holder, string pool = "")
    {
        var id = new SessionsKey(model, version, pool);
        if (!_holders.TryGetValue(id, out var holders))
        {
            _holders[id] = holders = [];
        }

        holders.Add(holder);
        await PoolFor(id);
        return _variants.GetValueOrDefault(id, ModelVariants.Fp32);
    }

    /// <inheritdoc />
    public Task UnloadModelAsync(string model, long version, string holder, string pool = "")
    {
        var id = new SessionsKey(model, version, pool);
        if (_holders.TryGetValue(id, out var holders))
        {
            holders.Remove(holder);
            if (holders.Count > 0)
            {
                return Task.CompletedTask;
            }
        }

        _holders.Remove(id);
        _variants.Remove(id);
        if (_models.Remove(id, out var sessions))
        {
            decoders.Remove(_key.ToString(), model, version, pool);
            if (pool.Length == 0)
            {
                throughputs.Remove(_key.Device, model, version);
            }

            UnloadWhenLoaded(sessions);
            LogUnloaded(id.ToString(), _key.ToString());
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<BatchResult> RunBatchAsync(string model, long version, TensorData[][] requests, string[] outputNames, string pool = "")
    {
        if (localDevices.HealthOf(RequireDevice()) is (DeviceHealth.Unhealthy, var reason))
        {
            throw DeviceSessions.OutOfService(_key.ToString(), reason);
        }

        var sessions = await PoolFor(new SessionsKey(model, version, pool));
        return await sessions.RunAsync(requests, outputNames, QuarantineAsync);
    }

    /// <inheritdoc />
    public Task QuarantineAsync(string reason)
    {
        if (localDevices.Quarantine(_key.Device, reason))
        {
            LogQuarantined(_key.ToString(), reason);
            metrics.DeviceQuarantines.Add(1, Tags());
            metrics.DeviceQuarantined.Add(1, Tags());
            var interval = TimeSpan.FromMilliseconds(localDevices.Options.ProbeIntervalMilliseconds);

            // A quarantined device gets no batches; the timer keeps the grain, and so its probes, alive.
            _probe ??= this.RegisterGrainTimer(ProbeAsync, new GrainTimerCreationOptions(interval, interval) { Interleave = true, KeepAlive = true });
        }

        return Task.CompletedTask;
    }

    /// <summary>One warm-up request of a loaded model; when it passes in time, the device serves again.</summary>
    private async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var pool = _models.Values.FirstOrDefault(p => p.IsCompletedSuccessfully)?.Result.Pool;
        try
        {
            if (pool is not null)
            {
                await pool.ProbeAsync().WaitAsync(TimeSpan.FromMilliseconds(localDevices.Options.BatchTimeoutMilliseconds), cancellationToken);
            }
        }
        catch (Exception e) when (e is DeviceFaultException or TimeoutException or OnnxRuntimeException)
        {
            LogProbeFailed(_key.ToString(), e.Message);
            return;
        }

        if (localDevices.Restore(_key.Device))
        {
            LogRestored(_key.ToString());
            metrics.DeviceQuarantined.Add(-1, Tags());
        }

        _probe?.Dispose();
        _probe = null;
    }

    private TagList Tags() => new() { { "silo", _key.Silo }, { "device", _key.Device } };

    private Task<DeviceSessions> PoolFor(SessionsKey id)
    {
        if (!_models.TryGetValue(id, out var pool))
        {
            pool = LoadAsync(id);
            _models[id] = pool;
        }

        return pool;
    }

    private async Task<DeviceSessions> LoadAsync(SessionsKey id)
    {
        var (model, version, sessionPool) = id;
        try
        {
            var device = RequireDevice();
            if (device.Health != DeviceHealth.Healthy)
            {
                throw new ModelUnavailableException($"Device '{_key}' is unhealthy and cannot load '{model}:{version}': {device.HealthReason}");
            }

            var registry = GrainFactory.GetGrain<IModelRegistryGrain>(0);

            // An arm's own sessions are built from the arm's settings.
            var target = sessionPool.Length == 0 ? await registry.ResolveRetryingAsync(model, version) : await registry.ResolveArmAsync(model, sessionPool);
            IReadOnlyList<WarmupRequest> warmups;
            try
            {
                // A decoder warms itself up (a prefill and a decode step) when its session opens.
                warmups = target.Config.Generation is null ? WarmupRequests.Build(target.Config, target.Version, repository.WarmupDirectory(model)) : [];
            }
            catch (ArgumentException e)
            {
                throw new ModelUnavailableException($"Model '{model}' version {version}: {e.Message}");
            }

            var outputs = Array.ConvertAll(target.Version.Outputs, o => o.Name);
            var usage = usageBoard.For(_key.Silo, _key.Device, device.MemoryTotalBytes);
            var instances = target.Config.Generation is null ? target.Config.InstanceCount : 1;
            var (variant, file) = VariantFileFor(target, device);
            var pool = await ModelInstancePool.CreateAsync(_key.ToString(), instances, () => Load(file, model, version, device, target), warmups, outputs,
                usage, throughputs.For(_key.Device, model, version), loneRequestsOnCaller: device.Kind == "cpu");
            _variants[id] = variant;
            if (pool.FirstModel is DecoderSession decoder)
            {
                decoders.Add(_key.ToString(), model, version, sessionPool, decoder.Start(pool.RunOnFirstAsync, time));
            }

            foreach (var skipped in pool.SkippedWarmups)
            {
                LogWarmupSkipped(model, version, _key.ToString(), skipped);
            }

            LogLoaded(id.ToString(), variant, _key.ToString(), pool.Count, warmups.Count);
            var sessions = new DeviceSessions(_key.ToString(), device, model, version, sessionPool, pool, localDevices, _batchesRun);
            sessionPools.Add(sessions);
            return sessions;
        }
        catch (Exception e)
        {
            _models.Remove(id);
            _holders.Remove(id);
            throw e switch
            {
                InferenceException => e,
                OnnxRuntimeException => new ModelUnavailableException($"Device '{_key}' cannot load '{model}:{version}': {e.Message}"),
                _ => new ModelUnavailableException($"Device '{_key}' cannot load or warm up '{model}:{version}': {e.Message}"),
            };
        }
    }

    /// <summary>
    /// Forgets and disposes a pool now, or when a load still in progress finishes; a failed load holds nothing. A replica that
    /// found the pool before is refused as not started (<see cref="DeviceExecutor"/>).
    /// </summary>
    private void UnloadWhenLoaded(Task<DeviceSessions> pool) =>
        pool.ContinueWith(
            t =>
            {
                sessionPools.Remove(t.Result);
                t.Result.Pool.Dispose();
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);

    private ILoadedModel Load(string file, string model, long version, DeviceDescriptor device, ModelTarget target)
    {
        // A decoder always runs in ONNX Runtime (on the CPU provider behind a simulated device): its tokens must be real.
        if (target.Config.Generation is { } generation)
        {
            return new DecoderSession(file, device, generation, target.Config.IntraOpThreads);
        }

        if (device.Simulation is { } profile)
        {
            return new SimulatedModel(target.Version, profile, new FileInfo(file).Length, device.Fault);
        }

        if (target.Config.TextEmbedding is { } text)
        {
            return new SentenceEmbeddingModel(file, repository.VersionFile(model, version, text.Vocabulary), device, text, target.Config.IntraOpThreads);
        }

        var cuda = target.Config.Cuda.Over(localDevices.Options.CudaProvider);
        if (cuda.CudaGraph == true && device.Kind != "cuda")
        {
            LogCudaGraphOnCudaOnly(model, version, device.Name);
        }

        return new OnnxRuntimeModel(file, device, target.Config.IntraOpThreads, cuda, target.Config.MaxBatchSize);
    }

    private DeviceDescriptor RequireDevice() =>
        _device ?? throw new DeviceNotFoundException(
            $"Device '{_key.Device}' is not a device of silo '{localSilo.Name}'; its devices are: {string.Join(", ", localDevices.All.Select(d => d.Name))}.");

    /// <summary>
    /// The variant and file a device loads for <paramref name="target"/>: decoders and embedders their one file; other models
    /// the variant an experiment arm asks for, else the one that suits the device.
    /// </summary>
    private (string Variant, string File) VariantFileFor(ModelTarget target, DeviceDescriptor device)
    {
        var (model, version) = (target.Model, target.Version.Version);
        if (target.Config.Generation is not null || target.Config.TextEmbedding is not null)
        {
            return (ModelVariants.Fp32, repository.ModelFile(model, version));
        }

        if (target.Variant.Length == 0)
        {
            return repository.VariantFile(model, version, device.Kind, target.Config.Variants, device.ComputeCapability);
        }

        return (target.Variant, repository.NamedVariantFile(model, version, target.Variant, target.Config.Variants)
            ?? throw new ModelUnavailableException(
                $"Model '{model}' version {version} has no {target.Variant} variant, which arm '{target.Arm}' asks for (setting 'variant')."));
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Loaded {Sessions} ({Variant}) on {Device}: {Instances} session instance(s), {Warmups} warm-up request(s) each")]
    private partial void LogLoaded(string sessions, string variant, string device, int instances, int warmups);

    [LoggerMessage(
        Level = LogLevel.Information, Message = "{Model}:{Version} on {Device} runs without a CUDA graph: cuda.cuda_graph applies on CUDA devices only")]
    private partial void LogCudaGraphOnCudaOnly(string model, long version, string device);

    [LoggerMessage(Level = LogLevel.Information, Message = "Unloaded {Sessions} from {Device}")]
    private partial void LogUnloaded(string sessions, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device} quarantined: {Reason}")]
    private partial void LogQuarantined(string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device} failed its health probe: {Reason}")]
    private partial void LogProbeFailed(string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device} passed its health probe and serves again")]
    private partial void LogRestored(string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Default warm-up of {Model}:{Version} on {Device} skipped: {Reason}")]
    private partial void LogWarmupSkipped(string model, long version, string device, string reason);

    /// <summary>The sessions of a model version on this device: the version's shared ones (empty pool) or an experiment arm's own.</summary>
    private readonly record struct SessionsKey(string Model, long Version, string Pool)
    {
        /// <summary><c>model:version</c>, with <c>@{arm}</c> for an arm's own sessions.</summary>
        public override string ToString() => Pool.Length == 0 ? $"{Model}:{Version}" : $"{Model}:{Version}@{Pool}";
    }
}
