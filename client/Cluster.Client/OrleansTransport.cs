using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Cluster.Client.Routing;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Models;

namespace Cluster.Client;

/// <summary>
/// Grain calls: the registry for the catalogue, a replica chosen by the <see cref="ReplicaRouter"/> for each
/// request. A request the replica did not start (it was retiring, or the call never reached it) goes to
/// another replica (after the table's next refresh when it has no other); one that may have run is never sent
/// again. With no ready replica in the table the request goes to replica 0, which Orleans activates where
/// placement puts it. A request in flight to a replica whose silo is declared dead is not left to Orleans' response
/// timeout: its answer cannot come. Inference is free of side effects, so it goes to another replica, unless the
/// model's <see cref="ModelConfig.RetryOnReplicaLoss"/> is off (it must run at most once): then it ends at once in
/// <see cref="ReplicaLostException"/>, as it may have run.
/// </summary>
internal sealed class OrleansTransport(IGrainFactory grains, LocalReplicaLookup? findLocal = null) : IInferenceTransport, IDisposable
{
    /// <summary>The most replicas one request is offered to.</summary>
    private const int MaxAttempts = 8;

    /// <summary>How many replicas' grain references are kept before the cache starts afresh.</summary>
    private const int MaxCachedReplicas = 4096;

    /// <summary>How long a request to a silo declared dead may still take to answer (an answer already on its way) before it counts as lost.</summary>
    internal static readonly TimeSpan LostSiloGrace = TimeSpan.FromSeconds(1);

    /// <summary>Replicas' grain references, made once per key: Orleans formats the interface's type name on every lookup by string.</summary>
    private readonly ConcurrentDictionary<string, IModelBatcherGrain> _replicas = new();

    public IGrainFactory Grains => grains;

    public ReplicaRouter Router { get; } = new(() => grains.GetGrain<IClusterLoadGrain>(0).GetAsync());

    public ValueTask<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken)
    {
        // The router's first choice active in this process: handed over with no frame, the first attempt of the routed loop.
        if (target.Arm.Length == 0 && findLocal is not null && Router.HasFirstTable
            && Router.Choose(target.Model, target.Version.Version, null)?.Key is { } key && findLocal(key) is { } serve)
        {
            return LocalHandOver.Start(this, target, request, key, serve, cancellationToken);
        }

        return new(InferRoutedAsync(target, request, null, cancellationToken));
    }

    /// <summary>Offers the request to replicas until one answers; <paramref name="tried"/> holds those that did not start it.</summary>
    internal async Task<InferenceResponse> InferRoutedAsync(ModelTarget target, InferenceRequest request, List<string>? tried,
        CancellationToken cancellationToken)
    {
        if (target.Arm.Length > 0)
        {
            // An experiment arm has one replica of its own, which Orleans activates where placement puts it.
            var key = new ReplicaKey(target.Model, target.Version.Version, 0, target.Arm).ToString();
            try
            {
                return findLocal?.Invoke(key) is { } serve
                    ? await serve(request, cancellationToken)
                    : await Replica(key).InferAsync(request, cancellationToken);
            }
            catch (ReplicaNotStartedException)
            {
                // The experiment ended and its replica retires: the model's own replicas serve the request.
                target = target with { Arm = "" };
            }
        }

        await Router.WaitForFirstTableAsync(cancellationToken);
        for (var attempt = 1 + (tried?.Count ?? 0); ; attempt++)
        {
            var chosen = Router.Choose(target.Model, target.Version.Version, tried);
            var key = chosen?.Key ?? FirstReplica(target);
            try
            {
                using (Router.Track(key))
                {
                    if (findLocal?.Invoke(key) is { } local)
                    {
                        // A replica in this process is not lost with another silo: only a grain call waits for its silo's death too.
                        return await local(request, cancellationToken);
                    }

                    var call = Replica(key).InferAsync(request, cancellationToken);
                    if (chosen?.Silo is { } silo
                        && await Task.WhenAny(call, Router.WhenDead(silo)) != call
                        && await Task.WhenAny(call, Task.Delay(LostSiloGrace, CancellationToken.None)) != call)
                    {
                        // The call ends later in Orleans' timeout; nobody waits for it.
                        call.Abandon();
                        throw new ReplicaLostException(target.Config.RetryOnReplicaLoss
                            ? $"Replica {key} was on silo '{silo}', which was declared dead while the request was in flight, and no other replica answered " +
                                $"it within {MaxAttempts} attempts."
                            : $"Replica {key} was on silo '{silo}', which was declared dead while the request was in flight; the request may have run, and " +
                                $"model '{target.Model}' is not retried after a lost replica (retry_on_replica_loss is off).");
                    }

                    return await call;
                }
            }
            catch (Exception e) when ((e is ReplicaNotStartedException or OrleansMessageRejectionException
                || (e is ReplicaLostException && target.Config.RetryOnReplicaLoss)) && attempt < MaxAttempts)
            {
                if (tried?.Contains(key) == true)
                {
                    // The table offers no replica not yet tried: wait for its next refresh (a replacement may be warming).
                    await Task.Delay(IClusterLoadGrain.ReportInterval, cancellationToken);
                }
                else
                {
                    (tried ??= []).Add(key);
                }
            }
        }
    }

    /// <summary>
    /// Streams a generation from a replica chosen by the router (the one that served a prompt sharing a long start
    /// with this one, unless it is overloaded; else the one owing the fewest tokens of two drawn);
    /// a replica that ends before its first token (not started, retiring, lost) is replaced by another. A replica lost
    /// later (its silo declared dead or unreachable) ends the stream in ReplicaLostException, and a retiring one in
    /// GenerationHandedOverException: the caller resumes the generation after the tokens it has. An experiment arm's
    /// request goes to the arm's own replica, and to the model's replicas once the experiment ended (the arm's replica retires).
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(ModelTarget target, GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Router.WaitForFirstTableAsync(cancellationToken);
        var prompt = PrefixAffinity.TextOf(request);
        var tried = new List<string>();
        var arm = target.Arm.Length == 0 ? null : new ReplicaKey(target.Model, target.Version.Version, 0, target.Arm).ToString();
        for (var attempt = 1; ; attempt++)
        {
            var chosen = arm is null ? Router.ChooseForPrompt(target.Model, target.Version.Version, prompt, tried) : null;
            var key = arm ?? chosen?.Key ?? FirstReplica(target);
            using var tracked = Router.Track(key);
            await using var tokens =
                new ReplicaTokenStream(Replica(key).GenerateAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken), key, chosen?.Silo, Router);
            bool any;
            try
            {
                any = await tokens.MoveNextAsync();
            }
            catch (Exception e) when (e is ReplicaNotStartedException or ReplicaLostException or GenerationHandedOverException && attempt < MaxAttempts)
            {
                if (key == arm && e is ReplicaNotStartedException)
                {
                    arm = null;
                }
                else if (tried.Contains(key))
                {
                    await Task.Delay(IClusterLoadGrain.ReportInterval, cancellationToken);
                }
                else
                {
                    tried.Add(key);
                }

                continue;
            }

            while (any)
            {
                yield return tokens.Current;
                any = await tokens.MoveNextAsync();
            }

            yield break;
        }
    }

    public Task<ModelTarget> ResolveAsync(string model, long? version) => grains.GetGrain<IModelRegistryGrain>(0).ResolveRetryingAsync(model, version);

    public Task<ModelDescriptor[]> GetModelsAsync() => grains.GetGrain<IModelRegistryGrain>(0).GetModelsAsync();

    /// <summary>Summed over the version's replicas on the load board (replica 0, started if need be, when none is listed).</summary>
    public async Task<ModelStatistics> GetStatisticsAsync(ModelTarget target)
    {
        var keys = await ReplicaKeysAsync(target);
        var replicas = await Task.WhenAll((keys.Count == 0 ? [FirstReplica(target)] : keys).Select(k => Replica(k).GetStatisticsAsync()));
        return ModelStatisticsSum.Of(target.Model, target.Version.Version, replicas);
    }

    /// <summary>Whether a replica of the version is ready: one accepting requests on the load board, else replica 0's own answer.</summary>
    public async Task<bool> IsReadyAsync(ModelTarget target) =>
        (await ReplicaKeysAsync(target, acceptingOnly: true)).Count > 0 || (await Replica(FirstReplica(target)).GetStatusAsync()).Ready;

    private async Task<List<string>> ReplicaKeysAsync(ModelTarget target, bool acceptingOnly = false) =>
        [.. (await grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos
            .SelectMany(s => s.Replicas)
            .Where(r => r.Model == target.Model && r.Version == target.Version.Version && (r.Accepting || !acceptingOnly))
            .Select(r => r.Key)
            .Distinct()];

    public Task SendFeedbackAsync(string model, string requestId, bool accepted) =>
        grains.GetGrain<IExperimentGrain>(model).RecordFeedbackAsync(requestId, accepted);

    public void Dispose() => Router.Dispose();

    private IModelBatcherGrain Replica(string key)
    {
        if (_replicas.TryGetValue(key, out var replica))
        {
            return replica;
        }

        if (_replicas.Count >= MaxCachedReplicas)
        {
            // Keys of retired versions accumulate over a long life; starting afresh costs one lookup per replica.
            _replicas.Clear();
        }

        return _replicas.GetOrAdd(key, k => grains.GetGrain<IModelBatcherGrain>(k));
    }

    private static string FirstReplica(ModelTarget target) => new ReplicaKey(target.Model, target.Version.Version, 0).ToString();
}
