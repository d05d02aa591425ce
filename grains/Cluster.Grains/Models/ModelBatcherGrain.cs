using System.Diagnostics;
using System.Text;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Logging;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Devices;
using Cluster.Grains.Drain;
using Cluster.Grains.Placement;
using Cluster.Inference.Batching;
using Cluster.Inference.Experiments;
using Cluster.Inference.Generation;
using Cluster.Inference.Replicas;
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
[CapacityPlacement]
public sealed partial class ModelBatcherGrain(
    LocalDevices localDevices,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    InferenceMetrics metrics,
    ReplicaBoard replicas,
    LocalDecoders decoders,
    LocalSessionPools sessionPools,
    SiloLeaving leaving,
    SiloLabels labels,
    ILogger<ModelBatcherGrain> logger) : Grain, IModelBatcherGrain
{
    /// <summary>How often a retiring generation replica looks whether its engine's sequences are done (the engine has no signal of its own).</summary>
    private static readonly TimeSpan GenerationRetirePoll = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long a stopped replica stays active, refusing requests as not started, before it deactivates:
    /// long enough for every router's table to drop it, so a late request is retried elsewhere rather than
    /// activating the replica again.
    /// </summary>
    private static readonly TimeSpan RetiredLinger = TimeSpan.FromSeconds(5);

    private ReplicaKey _key;
    private ReplicaDevices _devices = null!;
    private volatile Task<Replica>? _ready;
    private volatile bool _retiring;
    private volatile bool _deactivated;
    private IGrainTimer? _lingering;
    private TaskScheduler _grainScheduler = TaskScheduler.Default;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ReplicaKey.Parse(this.GetPrimaryKeyString());
        _grainScheduler = TaskScheduler.Current;
        _devices = new ReplicaDevices(_key, localDevices, sessionPools, localSilo.Name, GrainFactory, OnActivation, logger);
        _arm = _key.Arm.Length == 0 ? null : new ArmRecorder(time);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _deactivated = true;
        replicas.Gone(_key.ToString());
        if (_ready is { IsCompletedSuccessfully: true })
        {
            (await _ready).Scheduler.Dispose();
        }
    }

    /// <summary>
    /// Validates a request and queues it for a batch on <paramref name="replica"/>, or on this replica once started when
    /// null (a grain call, on the activation). Runs on the caller's thread for a started replica: everything it touches
    /// then is immutable or thread-safe.
    /// </summary>
    private ValueTask<InferenceResponse> ServeAsync(Replica? replica, InferenceRequest request, CancellationToken cancellationToken)
    {
        if (_retiring)
        {
            throw new ReplicaNotStartedException($"Replica {_key} on silo '{localSilo.Name}' is retiring and did not start the request; retry it on another " +
                "replica.");
        }

        replica ??= _ready is { IsCompletedSuccessfully: true } ready ? ready.Result : null;
        return replica is null ? ServeOnceReadyAsync(request, cancellationToken) : Enqueue(replica, request, cancellationToken);
    }

    /// <summary>A request that arrived before the replica started: it waits for the start, then is queued.</summary>
    private async ValueTask<InferenceResponse> ServeOnceReadyAsync(InferenceRequest request, CancellationToken cancellationToken) =>
        await Enqueue(await EnsureReadyAsync(), request, cancellationToken);

    /// <summary>
    /// Queues a valid request, answered by its batch (<see cref="RunBatchAsync"/>) with no frame of its own meanwhile: its success
    /// is recorded with its batch, a failure here or, once queued, by the batcher's failure observer (<see cref="Failed"/>).
    /// </summary>
    private ValueTask<InferenceResponse> Enqueue(Replica replica, InferenceRequest request, CancellationToken cancellationToken)
    {
        if (replica.Engine is not null)
        {
            throw new InvalidInputException($"Model '{_key.Model}' generates text: call generate (the SDK's GenerateAsync, gRPC ModelStreamInfer or " +
                "ModelInfer through the edge), not infer on a replica.");
        }

        var started = time.GetTimestamp();
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
            // Untraced, no span's tags are made: the version would be boxed for nothing.
            var queued = InferenceTracing.Source.HasListeners()
                ? InferenceTracing.StartDetached("queue", ("model", target.Model), ("version", target.Version.Version), ("silo", localSilo.Name),
                    ("request.id", request.Id))
                : null;
            return replica.Scheduler.EnqueueAsync(new Pending(inputs, OutputIndices(replica.OutputNames, requested), queued, started, request.Id),
                batchSize, replica.FixedShapeKey ?? ShapeKey(inputs), options);
        }
        catch (Exception e)
        {
            Failed(replica.Statistics, request.Id, started, e);
            throw;
        }
    }

    /// <summary>Records and logs a request that failed, before its batch or in it.</summary>
    private void Failed(StatisticsRecorder statistics, string requestId, long started, Exception error)
    {
        var failure = FailureReasons.Of(error);
        statistics.RecordRequest(failure, time.GetElapsedTime(started));
        if (failure == FailureReason.Backend)
        {
            LogBackendFailure(_key.Model, _key.Version, LogText.Bounded(requestId), localSilo.Name, LogText.Bounded(error.Message));
        }
        else
        {
            // Refusals and bad input are the callers' to make, as many as they like: Debug, never above.
            LogRequestFailed(_key.Model, _key.Version, LogText.Bounded(requestId), localSilo.Name, InferenceMetrics.Label(failure),
                LogText.Bounded(error.Message));
        }
    }

    /// <summary>
    /// A request handed over by a client in this silo (<see cref="ILocalReplicas"/>) rather than sent as a grain call.
    /// Once the replica has started it is validated and queued on the caller's thread, without a turn on this activation
    /// (the batcher is thread-safe); before, it runs on this activation's scheduler, as a call would. One that arrives
    /// after deactivation began did not start and may be retried.
    /// </summary>
    private ValueTask<InferenceResponse> ServeLocalAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        if (_deactivated)
        {
            throw NotStartedDeactivating();
        }

        return _ready is { IsCompletedSuccessfully: true } ready
            ? InferOnAsync(ready.Result, request, cancellationToken)
            : new(ServeOnActivation(request, cancellationToken));
    }

    /// <summary>A local request before the replica started, on the activation; a method of its own, so the started path makes no closure.</summary>
    private Task<InferenceResponse> ServeOnActivation(InferenceRequest request, CancellationToken cancellationToken) =>
        OnActivation(() => _deactivated ? throw NotStartedDeactivating() : InferAsync(request, cancellationToken));

    private ReplicaNotStartedException NotStartedDeactivating() =>
        new($"Replica {_key} on silo '{localSilo.Name}' was deactivating and did not start the request; retry it on another replica.");

    /// <summary>Runs <paramref name="work"/> on this activation's scheduler, from whichever thread asks (a local client's, a batch's failover).</summary>
    private Task<T> OnActivation<T>(Func<Task<T>> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.None, _grainScheduler).Unwrap();

    /// <inheritdoc />
    public Task<ReplicaStatus> GetStatusAsync()
    {
        var replica = _ready is { IsCompletedSuccessfully: true } ? _ready.Result : null;
        return Task.FromResult(new ReplicaStatus
        {
            Key = _key.ToString(),
            Silo = localSilo.Name,
            Device = replica is null ? null : _devices.Current,
            Variant = replica is null ? null : _devices.Variant,
            Ready = replica is not null,
            Queued = replica is null ? 0 : Load(replica.Scheduler, replica.Engine).Queued,
            RunningBatches = replica is null ? 0 : Load(replica.Scheduler, replica.Engine).Running,
        });
    }

    /// <inheritdoc />
    public async Task<ModelStatistics> GetStatisticsAsync() => (await EnsureReadyAsync()).Statistics.Snapshot();

    /// <inheritdoc />
    public Task WarmAsync()
    {
        if (leaving.IsLeaving)
        {
            throw NotStartingHere();
        }

        _retiring = false;
        _lingering?.Dispose();
        _lingering = null;
        return EnsureReadyAsync();
    }

    /// <inheritdoc />
    public async Task StopAsync()
    {
        _retiring = true;
        if (_ready is not null && await StartedOrNullAsync(_ready) is { } replica)
        {
            replica.Entry.Retiring = true;
            replica.Scheduler.StopAccepting();
            HandOverGenerations();
            await replica.Scheduler.Drained;
            while (Load(null, replica.Engine) != (0, 0))
            {
                await Task.Delay(GenerationRetirePoll, time);
            }

            replica.Scheduler.Dispose();
            replicas.Gone(_key.ToString());
            foreach (var grain in _devices.Used)
            {
                await grain.UnloadModelAsync(_key.Model, _key.Version, _key.ToString(), replica.Target.SessionPool);
            }
        }

        replicas.Gone(_key.ToString());
        _ready = null;
        _lingering ??= this.RegisterGrainTimer(
            () =>
            {
                DeactivateOnIdle();
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(RetiredLinger, Timeout.InfiniteTimeSpan));
    }

    private static async Task<Replica?> StartedOrNullAsync(Task<Replica> starting)
    {
        try
        {
            return await starting;
        }
        catch (InferenceException)
        {
            return null;
        }
    }

    private Task<Replica> EnsureReadyAsync()
    {
        if (_ready is null || _ready.IsFaulted || _ready.IsCanceled)
        {
            if (leaving.IsLeaving)
            {
                DeactivateOnIdle();
                throw NotStartingHere();
            }

            _ready = StartAsync();
        }

        return _ready;
    }

    private ReplicaNotStartedException NotStartingHere() =>
        new($"Replica {_key} did not start on silo '{localSilo.Name}', which is leaving the cluster; retry the request on another replica.");

    /// <summary>Resolves the model, loads and warms it up on the best local device, then starts the batcher.</summary>
    private async Task<Replica> StartAsync()
    {
        var registry = GrainFactory.GetGrain<IModelRegistryGrain>(0);
        var target = _key.Arm.Length == 0 ? await registry.ResolveRetryingAsync(_key.Model, _key.Version)
            : await registry.ResolveArmAsync(_key.Model, _key.Arm);
        DynamicBatchScheduler<Pending, InferenceResponse>? scheduler = null;
        GenerationEngine? engine = null;
        var entry = replicas.Start(_key.ToString(), target.Model, target.Version.Version, localSilo.Name, _devices.Eligible(target), () =>
            Load(scheduler, engine));
        try
        {
            await _devices.LoadAsync(target, entry.Device);
        }
        catch
        {
            replicas.Gone(_key.ToString());
            throw;
        }

        var deviceKey = _devices.Current!;
        if (target.Config.Generation is not null)
        {
            engine = decoders.Find(deviceKey, target.Model, target.Version.Version, target.SessionPool)
                ?? throw new ModelUnavailableException($"Model '{target.Model}' version {target.Version.Version} loaded on '{deviceKey}' without a " +
                    "generation engine.");
        }

        var outputNames = Array.ConvertAll(target.Version.Outputs, o => o.Name);
        var statistics = new StatisticsRecorder(target.Model, target.Version.Version, time, metrics, localSilo.Name, labels);
        scheduler = new DynamicBatchScheduler<Pending, InferenceResponse>(
            BatchingPolicy.From(target.Config),
            batch => RunBatchAsync(target, outputNames, statistics, batch),
            time,
            failed: (pending, error) => Failed(statistics, pending.Id, pending.Arrived, error));
        entry.Serve = ServeLocalAsync;
        entry.Ready = true;
        return new Replica(target, outputNames, scheduler, statistics, entry, engine, FixedShapeKey(target.Version.Inputs));
    }

    /// <summary>
    /// Runs one batch from the batcher's thread, not on a turn of the activation (thread-safe): records its queue waits, runs it on the
    /// replica's device (<see cref="ReplicaDevices.RunAsync"/>) and answers each request with the outputs it asked for.
    /// </summary>
    private async Task<InferenceResponse[]> RunBatchAsync(
        ModelTarget target,
        string[] outputNames,
        StatisticsRecorder statistics,
        IReadOnlyList<QueuedRequest<Pending, InferenceResponse>> batch)
    {
        var now = time.GetUtcNow();
        var inputs = new TensorData[batch.Count][];
        // Links are made only for a listener: untraced, a batch would make one per request for nothing.
        var links = InferenceTracing.Source.HasListeners() ? new ActivityLink[batch.Count] : null;
        var waits = new TimeSpan[batch.Count];
        var samples = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            waits[i] = now - batch[i].EnqueuedAt;
            inputs[i] = batch[i].Payload.Inputs;
            samples += batch[i].BatchSize;
            var queued = batch[i].Payload.Queued;
            queued?.Stop();
            if (links is not null)
            {
                links[i] = new ActivityLink(queued?.Context ?? default);
            }
        }

        statistics.RecordQueued(waits);

        // A batch serves many traces: it starts its own, linked to the queue span of every request in it.
        Activity.Current = null;
        using var span = InferenceTracing.Source.StartActivity("batch", ActivityKind.Internal, parentContext: default, links: links);
        span?.SetTag("model", target.Model);
        span?.SetTag("batch.size", samples);
        span?.SetTag("silo", localSilo.Name);
        var result = await _devices.RunAsync(target, inputs, outputNames);
        statistics.RecordBatch(batch.Count, samples, result.Timings, result.Tokens);
        var responses = new InferenceResponse[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var pending = batch[i].Payload;
            var outputs = pending.OutputIndices is { } wanted ? Pick(result.Outputs[i], wanted) : result.Outputs[i];
            responses[i] = new InferenceResponse { Model = target.Model, Version = target.Version.Version, Id = pending.Id, Outputs = outputs };
            waits[i] = time.GetElapsedTime(pending.Arrived);
        }

        // Each request is answered now: the array of queue waits, recorded above, now takes each one's time since arrival.
        statistics.RecordSuccesses(waits);

        return responses;
    }

    private static TensorData[] Pick(TensorData[] outputs, int[] wanted)
    {
        var picked = new TensorData[wanted.Length];
        for (var o = 0; o < wanted.Length; o++)
        {
            picked[o] = outputs[wanted[o]];
        }

        return picked;
    }

    /// <summary>
    /// Where each requested output is among the model's outputs; null when every output is requested (the request then gets
    /// its outputs from the batch as they are).
    /// </summary>
    private static int[]? OutputIndices(string[] all, string[]? requested)
    {
        // Requested outputs come in the model's order, each once: as many as the model has are all of them.
        if (requested is null || requested.Length == all.Length)
        {
            return null;
        }

        var indices = new int[requested.Length];
        for (var i = 0; i < requested.Length; i++)
        {
            indices[i] = Array.IndexOf(all, requested[i]);
        }

        return indices;
    }

    /// <summary>Requests share a batch only when every input has the same non-batch dimensions.</summary>
    private static string ShapeKey(TensorData[] inputs) => ShapeKey(inputs, static i => i.Shape);

    /// <summary>
    /// The one shape key of every valid request when no input has a dynamic non-batch dimension (validated inputs then have the
    /// declared shapes), made once instead of per request; null when requests may differ.
    /// </summary>
    private static string? FixedShapeKey(TensorSpec[] inputs) =>
        Array.TrueForAll(inputs, i => Array.LastIndexOf(i.Shape, -1) < 1) ? ShapeKey(inputs, static i => i.Shape) : null;

    /// <summary>The non-batch dimensions of each item's shape, in order (a static <paramref name="shapeOf"/> costs no allocation per request).</summary>
    private static string ShapeKey<T>(T[] items, Func<T, long[]> shapeOf)
    {
        var key = new StringBuilder();
        foreach (var item in items)
        {
            var shape = shapeOf(item);
            for (var d = 1; d < shape.Length; d++)
            {
                key.Append(shape[d]).Append(',');
            }

            key.Append('|');
        }

        return key.ToString();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId} for {Model}:{Version} on {Silo} failed ({Reason}): {Error}")]
    private partial void LogRequestFailed(string model, long version, string requestId, string silo, string reason, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId} for {Model}:{Version} on {Silo} failed in the model or its device: {Error}")]
    private partial void LogBackendFailure(string model, long version, string requestId, string silo, string error);

    /// <summary>
    /// A request in the queue: its inputs in model order, which outputs it wants (null: all of them), its queue span, when it arrived
    /// and its id; held inline in its queue entry.
    /// </summary>
    private readonly record struct Pending(TensorData[] Inputs, int[]? OutputIndices, Activity? Queued, long Arrived, string Id);

    private sealed record Replica(
        ModelTarget Target,
        string[] OutputNames,
        DynamicBatchScheduler<Pending, InferenceResponse> Scheduler,
        StatisticsRecorder Statistics,
        ReplicaEntry Entry,
        GenerationEngine? Engine,
        string? FixedShapeKey);
}
