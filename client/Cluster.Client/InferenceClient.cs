using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Cluster.Client.Routing;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Client;

/// <summary>
/// Runs models on the cluster. Resolves a model's version once and caches it briefly, then sends
/// each request straight to a model replica: as a grain call (inside the cluster's network, see
/// <see cref="ClusterConnection"/>) or through the gRPC edge (<see cref="ForGrpc"/>), with the same API.
/// </summary>
public sealed class InferenceClient : IDisposable
{
    /// <summary>How long a resolved model version is reused before asking the registry again.</summary>
    public static readonly TimeSpan ResolutionLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Resolutions by (model, version asked for), each kept as a completed task so a cached answer costs no allocation.</summary>
    private readonly ConcurrentDictionary<(string Model, long? Version), (Task<ModelTarget> Target, DateTimeOffset Expires)> _resolved = new();

    /// <summary>The SDK's spans come from the cluster's activity source name, so one subscription sees the whole path.</summary>
    private static readonly ActivitySource Tracing = new("Cluster.Inference");

    private readonly TimeProvider _time;
    private readonly IInferenceTransport _transport;

    /// <summary>A client making grain calls through <paramref name="grains"/> (an Orleans client or a silo's grain factory).</summary>
    public InferenceClient(IGrainFactory grains, TimeProvider? timeProvider = null)
        : this(new OrleansTransport(grains), timeProvider)
    {
    }

    /// <summary>
    /// A client inside a silo: requests for a replica active in the same silo are handed to it directly
    /// (<paramref name="findLocal"/>), the others go as grain calls through <paramref name="grains"/>.
    /// </summary>
    public InferenceClient(IGrainFactory grains, LocalReplicaLookup findLocal)
        : this(new OrleansTransport(grains, findLocal), null)
    {
    }

    internal InferenceClient(IInferenceTransport transport, TimeProvider? timeProvider)
    {
        _transport = transport;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// A client speaking the Open Inference Protocol to a silo's gRPC edge, for applications outside the
    /// cluster's network; <paramref name="apiKey"/> is sent as a bearer token when the edge requires keys.
    /// </summary>
    public static InferenceClient ForGrpc(Grpc.Net.Client.GrpcChannel channel, string? apiKey = null) =>
        new(new GrpcTransport(channel ?? throw new ArgumentNullException(nameof(channel)), apiKey), null);

    /// <summary>
    /// Runs <paramref name="model"/> (the newest served version unless <paramref name="version"/> is given)
    /// on <paramref name="inputs"/>. Returns every output unless <paramref name="outputs"/> names some.
    /// Cancelling <paramref name="cancellationToken"/> takes a queued request out of the model's queue.
    /// Throws ModelNotFoundException, InvalidInputException, ModelUnavailableException, QueueFullException
    /// or InferenceTimeoutException with a message naming the fault.
    /// </summary>
    public Task<InferenceResponse> InferAsync(
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
        return InferOwnedAsync(model, [.. inputs], version, outputs, id, options, cancellationToken).AsTask();
    }

    /// <summary>
    /// <see cref="InferAsync"/> for a caller in the silo (the edge) that hands over its <paramref name="inputs"/> array, unchanged from then
    /// on, and awaits the answer once: a request for a replica in the same silo then costs no task.
    /// </summary>
    internal ValueTask<InferenceResponse> InferOwnedAsync(string model, TensorData[] inputs, long? version, IReadOnlyList<string>? outputs,
        string id, InferOptions? options, CancellationToken cancellationToken)
    {
        if (Tracing.HasListeners())
        {
            return new(InferRoutedAsync(model, inputs, version, outputs, id, options, null, cancellationToken));
        }

        // Untraced, with the resolution cached, to a model running no experiment: straight to the transport, with no frame here to resume.
        var routing = RouteAsync(model, version);
        if (!routing.IsCompletedSuccessfully)
        {
            return new(InferRoutedAsync(model, inputs, version, outputs, id, options, routing, cancellationToken));
        }

        var target = routing.Result;
        return target.Experiment is null && target.Arm.Length == 0
            ? _transport.InferAsync(target, NewRequest(inputs, outputs, id, options), cancellationToken)
            : new(InferRoutedAsync(model, inputs, version, outputs, id, options, new ValueTask<ModelTarget>(target), cancellationToken));
    }

    /// <summary>
    /// <see cref="InferAsync"/> with its spans, an experiment's arm, or a resolution still to come (<paramref name="routing"/>, started when
    /// not null).
    /// </summary>
    private async Task<InferenceResponse> InferRoutedAsync(string model, TensorData[] inputs, long? version, IReadOnlyList<string>? outputs,
        string id, InferOptions? options, ValueTask<ModelTarget>? routing, CancellationToken cancellationToken)
    {
        using var span = Tracing.StartActivity("infer", ActivityKind.Client);
        span?.SetTag("model", model);
        span?.SetTag("request.id", id);
        ModelTarget target;
        using (var route = Tracing.StartActivity("route"))
        {
            target = await (routing ?? RouteAsync(model, version));
            route?.SetTag("version", target.Version.Version);
        }

        if (target.Experiment is { } experiment)
        {
            (target, id) = await ArmTargetAsync(target, experiment, options?.AssignmentKey, id);
            span?.SetTag("experiment.arm", target.Arm);
        }

        var response = await _transport.InferAsync(target, NewRequest(inputs, outputs, id, options), cancellationToken);
        if (response.Arm != target.Arm)
        {
            // The arm turned the request away (stopped, or its experiment ended): the cached resolution is out of date.
            _resolved.TryRemove((model, version), out _);
        }

        return response;
    }

    private static InferenceRequest NewRequest(TensorData[] inputs, IReadOnlyList<string>? outputs, string id, InferOptions? options) => new()
    {
        AssignmentKey = options?.AssignmentKey ?? "",
        Id = id,
        Inputs = inputs,
        RequestedOutputs = outputs is null ? [] : [.. outputs],
        Priority = options?.Priority ?? 0,
        TimeoutMicroseconds = options?.Timeout is { } timeout ? (long)timeout.TotalMicroseconds : 0,
        Deadline = options?.Deadline,
    };

    /// <summary>
    /// Generates text from <paramref name="request"/>'s prompt on a generation model (the newest served version
    /// unless <paramref name="version"/> is given), one <see cref="GeneratedToken"/> per token as the model
    /// produces them; the last carries the finish reason (<c>stop</c>, <c>length</c>, <c>cancelled</c>) and the
    /// token counts. Cancelling <paramref name="cancellationToken"/>, or leaving the enumeration early, ends
    /// the sequence and frees its KV cache. When the replica's silo is lost or drained mid-stream, the generation
    /// resumes on another replica of the same version after the tokens already delivered (up to
    /// <see cref="MaxGenerationResumes"/> times), so the caller sees no gap and no repeat; a request without a seed
    /// gets one here, so a resumed sampled stream continues the same draws. Throws InvalidInputException naming a
    /// bad field, QueueFullException when the model's KV cache stays full, InferenceTimeoutException past the
    /// deadline, ReplicaLostException when the stream was interrupted more often than it may be resumed.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(
        string model,
        GenerationRequest request,
        long? version = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        using var span = Tracing.StartActivity("generate", ActivityKind.Client);
        span?.SetTag("model", model);
        var target = await RouteAsync(model, version);
        if (!target.Version.Generates)
        {
            throw new InvalidInputException($"Model '{model}' version {target.Version.Version} does not generate text; call InferAsync with its inputs.");
        }

        if (target.Experiment is { } experiment)
        {
            (target, var id) = await ArmTargetAsync(target, experiment, request.AssignmentKey, request.Id);
            request = request with { Id = id };
            span?.SetTag("experiment.arm", target.Arm);
        }

        request = request with { Seed = request.Seed ?? (ulong)Random.Shared.NextInt64() };
        var delivered = new List<int>(request.ResumeTokens);

        // A stream can be resumed only while every token it counted came with its id (the gRPC edge leaves out pieces without text).
        var generated = delivered.Count;
        var first = true;
        var finished = false;
        for (var resumes = 0; !finished; resumes++)
        {
            var attempt = resumes == 0 ? request : request with { ResumeTokens = [.. delivered] };
            await using var tokens = _transport.GenerateAsync(target, attempt, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await tokens.MoveNextAsync())
                    {
                        yield break;
                    }
                }
                catch (Exception e) when ((e is ReplicaLostException or GenerationHandedOverException or ReplicaNotStartedException)
                    && (finished || generated == delivered.Count))
                {
                    // The replica went after the last token but before the stream's end: the generation is complete, nothing to resume.
                    if (finished)
                    {
                        break;
                    }

                    if (resumes == MaxGenerationResumes)
                    {
                        throw new ReplicaLostException(
                            $"The generation of model '{model}' was interrupted {resumes + 1} times ({delivered.Count} tokens delivered) and is not resumed " +
                                $"again; the last interruption: {e.Message}");
                    }

                    span?.AddEvent(
                        new ActivityEvent("resumed", tags: new ActivityTagsCollection { ["tokens"] = delivered.Count, ["reason"] = e.GetType().Name }));
                    break;
                }

                var token = tokens.Current;
                if (first)
                {
                    span?.AddEvent(new ActivityEvent("first_token"));
                    first = false;
                }

                if (token.TokenId >= 0)
                {
                    delivered.Add(token.TokenId);
                }

                generated = token.GeneratedTokens;
                finished = token.FinishReason is not null;

                yield return token;
            }
        }
    }

    /// <summary>How many times one generation is resumed on another replica after its replica was lost or drained.</summary>
    public const int MaxGenerationResumes = 8;

    /// <summary>Generates the whole text at once: <see cref="GenerateAsync"/> collected.</summary>
    public async Task<GenerationResult> GenerateTextAsync(string model, GenerationRequest request, long? version = null,
        CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        GeneratedToken? last = null;
        await foreach (var token in GenerateAsync(model, request, version, cancellationToken))
        {
            text.Append(token.Text);
            last = token;
        }

        return new GenerationResult(text.ToString(), last?.FinishReason ?? FinishReasonUnknown, last?.PromptTokens ?? 0, last?.GeneratedTokens ?? 0);
    }

    private const string FinishReasonUnknown = "";

    /// <summary>The statistics of a model version, summed over its replicas, in Triton's shape.</summary>
    public async Task<ModelStatistics> GetStatisticsAsync(string model, long? version = null) =>
        await _transport.GetStatisticsAsync(await ResolveAsync(model, version));

    /// <summary>Whether a replica of the model version has loaded and warmed its sessions and takes requests.</summary>
    public async Task<bool> IsReadyAsync(string model, long? version = null) =>
        await _transport.IsReadyAsync(await ResolveAsync(model, version));

    /// <summary>Every model in the repository with its versions, inputs and outputs.</summary>
    public Task<ModelDescriptor[]> GetModelsAsync() => _transport.GetModelsAsync();

    /// <summary>
    /// How long renewing an expired resolution may take before the expired one is used for this request: the
    /// registry's grain may have been on a silo that just died, and a call to it waits for the response timeout.
    /// </summary>
    public static readonly TimeSpan StaleResolutionWait = TimeSpan.FromSeconds(1);

    /// <summary>The model version a request would use, with its inputs and outputs.</summary>
    public Task<ModelTarget> ResolveAsync(string model, long? version = null)
    {
        var now = _time.GetUtcNow();
        var known = _resolved.TryGetValue((model, version), out var cached);
        return known && cached.Expires > now ? cached.Target : RenewAsync(model, version, known ? cached.Target : null, now);
    }

    /// <summary>Asks the cluster again; with a <paramref name="stale"/> answer, keeps it when the cluster does not answer in time.</summary>
    private async Task<ModelTarget> RenewAsync(string model, long? version, Task<ModelTarget>? stale, DateTimeOffset now)
    {
        var renewal = _transport.ResolveAsync(model, version);
        ModelTarget target;
        try
        {
            target = stale is not null ? await renewal.WaitAsync(StaleResolutionWait) : await renewal;
        }
        catch (Exception e) when (stale is not null && e is not InferenceException and not OutOfMemoryException)
        {
            // No answer in time, or the registry's silo was lost: keep serving the last answer. A renewal still
            // running ends by itself; the next request after this one asks again.
            renewal.Abandon();
            return await stale;
        }

        _resolved[(model, version)] = (Task.FromResult(target), now + ResolutionLifetime);
        return target;
    }

    /// <summary>
    /// The version one request goes to: the one asked for, or, when the model splits its versionless
    /// traffic, a weighted choice made afresh for every request (so cached resolutions keep the split).
    /// </summary>
    private async ValueTask<ModelTarget> RouteAsync(string model, long? version)
    {
        var target = await ResolveAsync(model, version);
        if (version is not null || target.TrafficSplit.Length == 0)
        {
            return target;
        }

        var chosen = TrafficSplit.Choose(target.TrafficSplit, Random.Shared.NextDouble());
        return chosen == target.Version.Version ? target : await ResolveAsync(model, chosen);
    }

    /// <summary>
    /// The target of the arm a request with <paramref name="key"/> goes to: its version (resolved like any other) and its replica arm;
    /// and the request's id, made up when <paramref name="id"/> is empty, since feedback on the answer names the request by its id.
    /// </summary>
    private async Task<(ModelTarget Target, string Id)> ArmTargetAsync(ModelTarget target, Experiment experiment, string? key, string id)
    {
        var arm = ExperimentAssignment.Choose(experiment, key, Random.Shared.NextDouble());
        var version = arm.Version == target.Version.Version ? target : await ResolveAsync(target.Model, arm.Version);
        return (version with { Arm = experiment.ReplicaArm(arm.Name), Experiment = null }, id.Length == 0 ? Guid.NewGuid().ToString("N") : id);
    }

    /// <summary>
    /// Reports whether the answer to request <paramref name="requestId"/> (the id it was answered with) was used, for the
    /// acceptance rate of the experiment arm that answered it. Throws InvalidInputException naming the id when no arm of
    /// the model's experiment answered it, OperationRefusedException when the model runs no experiment.
    /// </summary>
    public Task SendFeedbackAsync(string model, string requestId, bool accepted)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(requestId);
        return _transport.SendFeedbackAsync(model, requestId, accepted);
    }

    /// <summary>Drops cached version resolutions, e.g. after a model was loaded or unloaded.</summary>
    public void ForgetResolutions() => _resolved.Clear();

    /// <summary>Stops the router's background refresh.</summary>
    public void Dispose() => (_transport as IDisposable)?.Dispose();

    /// <summary>The gRPC edge this client calls (<c>dns:///host:port</c>); null when it makes grain calls.</summary>
    public Uri? Endpoint => (_transport as GrpcTransport)?.Endpoint;

    /// <summary>The cluster's grains when this client makes grain calls; null over the gRPC edge.</summary>
    public IGrainFactory? Grains => (_transport as OrleansTransport)?.Grains;

    /// <summary>The router choosing each request's replica when this client makes grain calls; null over the gRPC edge.</summary>
    public ReplicaRouter? Router => (_transport as OrleansTransport)?.Router;

    /// <summary>The status of one device, keyed <c>{silo}/{device}</c> (grain-call clients only).</summary>
    public Task<DeviceStatus> GetDeviceStatusAsync(string deviceKey) => _transport is OrleansTransport orleans
        ? orleans.Grains.GetGrain<IDeviceGrain>(DeviceKey.Parse(deviceKey).ToString()).GetStatusAsync()
        : throw new NotSupportedException("Device status is available to clients inside the cluster (ClusterConnection), not over the gRPC edge.");
}
