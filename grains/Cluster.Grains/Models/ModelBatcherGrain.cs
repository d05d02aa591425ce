using System.Diagnostics;
using System.Text;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Devices;
using Cluster.Grains.Placement;
using Cluster.Inference.Batching;
using Cluster.Inference.Devices;
using Cluster.Inference.Telemetry;
using Cluster.Inference.Tensors;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Cluster.Grains.Models;

/// <summary>
/// A replica of one model version (<c>{model}:{version}/{replica}</c>): validates each request, queues
/// it in the dynamic batcher and runs the batches on a device of its own silo, then hands each caller
/// its outputs. Reentrant, since many callers wait on it at once; the batcher is thread-safe.
/// </summary>
[Reentrant]
[DrainAwarePlacement]
public sealed partial class ModelBatcherGrain(
    LocalDevices localDevices,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    InferenceMetrics metrics,
    ReplicaBoard replicas,
    SiloLabels labels,
    ILogger<ModelBatcherGrain> logger) : Grain, IModelBatcherGrain
{
    private readonly HashSet<string> _devicesUsed = [];
    private ReplicaKey _key;
    private Task<Replica>? _ready;
    private string? _device;
    private TaskScheduler _grainScheduler = TaskScheduler.Default;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ReplicaKey.Parse(this.GetPrimaryKeyString());
        _grainScheduler = TaskScheduler.Current;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        replicas.Gone(_key.ToString());
        if (_ready is { IsCompletedSuccessfully: true })
        {
            (await _ready).Scheduler.Dispose();
        }
    }

    /// <inheritdoc />
    public async Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        var replica = await EnsureReadyAsync();
        var started = time.GetTimestamp();
        FailureReason? failure = FailureReason.Other;
        replica.Statistics.RecordArrival();
        try
        {
            var target = replica.Target;
            var (inputs, requested) = InputValidator.Validate(target.Model, target.Config, target.Version, request);
            var batchSize = target.Config.MaxBatchSize > 0 ? checked((int)inputs[0].Shape[0]) : 1;
            var options = new RequestOptions
            {
                Priority = request.Priority,
                Timeout = request.TimeoutMicroseconds > 0 ? TimeSpan.FromMicroseconds(request.TimeoutMicroseconds) : null,
                Deadline = request.Deadline,
                CancellationToken = cancellationToken,
            };
            var queued = InferenceTracing.StartDetached("queue", ("model", target.Model), ("version", target.Version.Version), ("silo", localSilo.Name), ("request.id", request.Id));
            var outputs = await replica.Scheduler.EnqueueAsync(new Pending(inputs, OutputIndices(replica.OutputNames, requested), queued), batchSize, ShapeKey(inputs), options);
            failure = null;
            return new InferenceResponse { Model = target.Model, Version = target.Version.Version, Id = request.Id, Outputs = outputs };
        }
        catch (Exception e)
        {
            failure = e switch
            {
                QueueFullException or InferenceTimeoutException => FailureReason.Rejected,
                OperationCanceledException => FailureReason.Canceled,
                ModelExecutionException or ModelUnavailableException or DeviceNotFoundException or DeviceFaultException => FailureReason.Backend,
                _ => FailureReason.Other,
            };
            if (failure == FailureReason.Backend)
            {
                LogBackendFailure(_key.Model, _key.Version, request.Id, localSilo.Name, e.Message);
            }
            else
            {
                LogRequestFailed(_key.Model, _key.Version, request.Id, localSilo.Name, InferenceMetrics.Label(failure.Value), e.Message);
            }

            throw;
        }
        finally
        {
            replica.Statistics.RecordRequest(failure, time.GetElapsedTime(started));
        }
    }

    /// <inheritdoc />
    public Task<ReplicaStatus> GetStatusAsync()
    {
        var replica = _ready is { IsCompletedSuccessfully: true } ? _ready.Result : null;
        return Task.FromResult(new ReplicaStatus
        {
            Key = _key.ToString(),
            Silo = localSilo.Name,
            Device = replica is null ? null : _device,
            Ready = replica is not null,
            Queued = replica?.Scheduler.QueuedCount ?? 0,
            RunningBatches = replica?.Scheduler.RunningBatches ?? 0,
        });
    }

    /// <inheritdoc />
    public async Task<ModelStatistics> GetStatisticsAsync() => (await EnsureReadyAsync()).Statistics.Snapshot();

    /// <inheritdoc />
    public Task WarmAsync() => EnsureReadyAsync();

    /// <inheritdoc />
    public async Task StopAsync()
    {
        var starting = _ready;
        _ready = null;
        replicas.Gone(_key.ToString());
        if (starting is not null)
        {
            Replica replica;
            try
            {
                replica = await starting;
            }
            catch (InferenceException)
            {
                DeactivateOnIdle();
                return;
            }

            replica.Scheduler.Dispose();
            await Task.WhenAll(_devicesUsed.Select(d => GrainFactory.GetGrain<IDeviceGrain>(d).UnloadModelAsync(_key.Model, _key.Version)));
        }

        DeactivateOnIdle();
    }

    private Task<Replica> EnsureReadyAsync()
    {
        if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
        {
            _ready = StartAsync();
        }

        return _ready;
    }

    /// <summary>Resolves the model, loads and warms it up on the best local device, then starts the batcher.</summary>
    private async Task<Replica> StartAsync()
    {
        var target = await GrainFactory.GetGrain<IModelRegistryGrain>(0).ResolveAsync(_key.Model, _key.Version);
        var deviceKey = new DeviceKey(localSilo.Name, ChooseDevice(target).Name).ToString();
        await GrainFactory.GetGrain<IDeviceGrain>(deviceKey).LoadModelAsync(target.Model, target.Version.Version);
        _devicesUsed.Add(deviceKey);
        _device = deviceKey;

        var outputNames = Array.ConvertAll(target.Version.Outputs, o => o.Name);
        var statistics = new StatisticsRecorder(target.Model, target.Version.Version, time, metrics, localSilo.Name, labels);
        var scheduler = new DynamicBatchScheduler<Pending, TensorData[]>(
            BatchingPolicy.From(target.Config),
            batch => Task.Factory.StartNew(() => RunBatchAsync(target, outputNames, statistics, batch), CancellationToken.None, TaskCreationOptions.None, _grainScheduler).Unwrap(),
            time);
        replicas.Ready(_key.ToString(), target.Model, target.Version.Version, localSilo.Name);
        return new Replica(target, outputNames, scheduler, statistics);
    }

    private async Task<TensorData[][]> RunBatchAsync(
        ModelTarget target,
        string[] outputNames,
        StatisticsRecorder statistics,
        IReadOnlyList<QueuedRequest<Pending, TensorData[]>> batch)
    {
        var now = time.GetUtcNow();
        var inputs = new TensorData[batch.Count][];
        var links = new ActivityLink[batch.Count];
        var samples = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            statistics.RecordQueued(now - batch[i].EnqueuedAt);
            inputs[i] = batch[i].Payload.Inputs;
            samples += batch[i].BatchSize;
            var queued = batch[i].Payload.Queued;
            queued?.Stop();
            links[i] = new ActivityLink(queued?.Context ?? default);
        }

        // A batch serves many traces: it starts its own, linked to the queue span of every request in it.
        Activity.Current = null;
        using var span = InferenceTracing.Source.StartActivity("batch", ActivityKind.Internal, parentContext: default, links: links);
        span?.SetTag("model", target.Model);
        span?.SetTag("batch.size", samples);
        span?.SetTag("silo", localSilo.Name);
        var result = await RunOnDeviceAsync(target, inputs, outputNames);
        statistics.RecordBatch(batch.Count, samples, result.Timings, result.Tokens);
        var outputs = new TensorData[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            var wanted = batch[i].Payload.OutputIndices;
            outputs[i] = new TensorData[wanted.Length];
            for (var o = 0; o < wanted.Length; o++)
            {
                outputs[i][o] = result.Outputs[i][wanted[o]];
            }
        }

        return outputs;
    }

    /// <summary>
    /// Runs a batch on the best healthy device; when that device fails or hangs (and so takes itself out of
    /// service) the batch runs once more on the next best. That is safe: a failed batch answered no caller.
    /// </summary>
    private async Task<BatchResult> RunOnDeviceAsync(ModelTarget target, TensorData[][] inputs, string[] outputNames)
    {
        var first = Device(target);
        try
        {
            return await GrainFactory.GetGrain<IDeviceGrain>(first).RunBatchAsync(target.Model, target.Version.Version, inputs, outputNames);
        }
        catch (DeviceFaultException fault)
        {
            string second;
            try
            {
                second = Device(target);
            }
            catch (ModelUnavailableException)
            {
                throw fault;
            }

            LogBatchRetried(_key.Model, _key.Version, first, second, fault.Message);
            return await GrainFactory.GetGrain<IDeviceGrain>(second).RunBatchAsync(target.Model, target.Version.Version, inputs, outputNames);
        }
    }

    /// <summary>The device key for the next batch; the model loads there on its first batch.</summary>
    private string Device(ModelTarget target)
    {
        _device = new DeviceKey(localSilo.Name, ChooseDevice(target).Name).ToString();
        _devicesUsed.Add(_device);
        return _device;
    }

    /// <summary>The best healthy local device the model allows: a GPU first, then the CPU, then a simulated one.</summary>
    private DeviceDescriptor ChooseDevice(ModelTarget target)
    {
        DeviceDescriptor? best = null;
        foreach (var device in localDevices.All)
        {
            if (localDevices.HealthOf(device).Health == DeviceHealth.Healthy && target.Config.AllowsDeviceKind(device.Kind)
                && (best is null || Preference(device) < Preference(best)))
            {
                best = device;
            }
        }

        return best ?? throw new ModelUnavailableException(
            $"Model '{target.Model}' version {target.Version.Version} allows device kinds [{string.Join(", ", target.Config.DeviceKinds)}] but silo '{localSilo.Name}' has no healthy device of those kinds; its devices: {string.Join(", ", localDevices.All.Select(d => $"{d.Name} ({localDevices.HealthOf(d).Health})"))}.");
    }

    private static int Preference(DeviceDescriptor device) => device.Kind switch
    {
        "cuda" => 0,
        "cpu" => 1,
        _ => 2,
    };

    private static int[] OutputIndices(string[] all, string[] requested)
    {
        var indices = new int[requested.Length];
        for (var i = 0; i < requested.Length; i++)
        {
            indices[i] = Array.IndexOf(all, requested[i]);
        }

        return indices;
    }

    /// <summary>Requests share a batch only when every input has the same non-batch dimensions.</summary>
    private static string ShapeKey(TensorData[] inputs)
    {
        var key = new StringBuilder();
        foreach (var input in inputs)
        {
            for (var d = 1; d < input.Shape.Length; d++)
            {
                key.Append(input.Shape[d]).Append(',');
            }

            key.Append('|');
        }

        return key.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {RequestId} for {Model}:{Version} on {Silo} failed ({Reason}): {Error}")]
    private partial void LogRequestFailed(string model, long version, string requestId, string silo, string reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Model}:{Version} failed on {Device} and runs again on {Other}: {Error}")]
    private partial void LogBatchRetried(string model, long version, string device, string other, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} for {Model}:{Version} on {Silo} failed in the model or its device: {Error}")]
    private partial void LogBackendFailure(string model, long version, string requestId, string silo, string error);

    /// <summary>A request in the queue: its inputs in model order and which outputs it wants.</summary>
    private sealed record Pending(TensorData[] Inputs, int[] OutputIndices, Activity? Queued);

    private sealed record Replica(
        ModelTarget Target,
        string[] OutputNames,
        DynamicBatchScheduler<Pending, TensorData[]> Scheduler,
        StatisticsRecorder Statistics);
}
