using System.Runtime.CompilerServices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;
using Cluster.Inference.Batching;
using Cluster.Inference.Generation;
using Cluster.Inference.Telemetry;

namespace Cluster.Grains.Models;

/// <summary>The replica's generation path: a generation model's requests go to the engine its device runs, token by token.</summary>
public sealed partial class ModelBatcherGrain
{
    /// <summary>Cancelled when the replica retires: its running generations end in GenerationHandedOverException, and callers resume them elsewhere.</summary>
    private CancellationTokenSource _handOver = new();

    /// <inheritdoc />
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_retiring)
        {
            throw new ReplicaNotStartedException($"Replica {_key} on silo '{localSilo.Name}' is retiring and did not start the request; retry it on another " +
                "replica.");
        }

        // Taken before the first wait, so that a retirement beginning while the replica starts hands this request over too.
        var handOver = _handOver.Token;
        var replica = await EnsureReadyAsync();
        var engine = replica.Engine
            ?? throw new InvalidInputException($"Model '{_key.Model}' does not generate text: it takes tensors through infer.");
        var started = time.GetTimestamp();
        replica.Statistics.RecordArrival();
        FailureReason? failure = FailureReason.Other;
        TimeSpan? firstToken = null;
        var tokens = 0;
        var encoded = false;
        using var span = new GenerationSpan(_key.Model, _key.Version, localSilo.Name, request.Id, time);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, handOver);
        try
        {
            // Off the activation's thread: encoding a long prompt must not hold up this replica's other callers.
            var job = await Task.Run(() => GenerationJobs.Create(request, engine, time.GetUtcNow()), ended.Token);
            encoded = true;
            var stream = engine.Submit(job, ended.Token);
            await using var updates = stream.ReadAllAsync(ended.Token).GetAsyncEnumerator(ended.Token);
            while (await NextUpdateAsync(updates, handOver, cancellationToken))
            {
                var update = updates.Current;
                span.Record(update);
                firstToken ??= update.TokenId >= 0 ? time.GetElapsedTime(started) : null;
                tokens = update.GeneratedTokens;

                // The caller may stop enumerating as soon as it has the last piece; the request succeeded by then.
                if (update.FinishReason is not null)
                {
                    failure = null;
                }

                yield return new GeneratedToken
                {
                    TokenId = update.TokenId,
                    Text = update.Text,
                    FinishReason = update.FinishReason,
                    PromptTokens = update.PromptTokens,
                    GeneratedTokens = update.GeneratedTokens,
                    CachedPromptTokens = update.CachedPromptTokens,
                };
            }
        }
        finally
        {
            var elapsed = time.GetElapsedTime(started);
            replica.Statistics.RecordRequest(failure, elapsed);

            // A prompt refused as bad input, a caller's cancellation or a hand-over says nothing about the arm.
            if (encoded && !cancellationToken.IsCancellationRequested && !handOver.IsCancellationRequested)
            {
                RecordArm(request.Id, elapsed, failure is not null, firstToken, tokens);
            }
        }
    }

    /// <summary>
    /// The engine's next update for a caller; once the replica hands its generations over, none (not even one already
    /// made: the caller regenerates it identically elsewhere) but GenerationHandedOverException.
    /// </summary>
    private async Task<bool> NextUpdateAsync(IAsyncEnumerator<GenerationUpdate> updates, CancellationToken handOver, CancellationToken cancellationToken)
    {
        try
        {
            var any = await updates.MoveNextAsync();
            handOver.ThrowIfCancellationRequested();
            return any;
        }
        catch (OperationCanceledException) when (handOver.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new GenerationHandedOverException(
                $"Replica {_key} on silo '{localSilo.Name}' is retiring and handed the generation over; resume it on another replica after the tokens " +
                    "already streamed.");
        }
    }

    /// <summary>Ends every running generation with GenerationHandedOverException (the replica is retiring); later requests get a fresh signal.</summary>
    private void HandOverGenerations()
    {
        var handing = _handOver;
        _handOver = new CancellationTokenSource();
        handing.Cancel();
    }

    /// <inheritdoc />
    public Task<GenerationReplicaStatistics?> GetGenerationStatisticsAsync()
    {
        if (_ready is not { IsCompletedSuccessfully: true } || _ready.Result.Engine is not { } engine)
        {
            return Task.FromResult<GenerationReplicaStatistics?>(null);
        }

        var totals = engine.Statistics();
        return Task.FromResult<GenerationReplicaStatistics?>(new GenerationReplicaStatistics
        {
            Replica = _key.ToString(),
            Running = totals.Running,
            Waiting = totals.Waiting,
            KvCacheUsage = totals.KvCacheUsage,
            KvCacheBytes = totals.KvCacheBytes,
            PromptTokens = totals.PromptTokens,
            GeneratedTokens = totals.GeneratedTokens,
            TimeToFirstTokenP50Ms = Percentile(totals.RecentTimeToFirstTokenMs, 0.50),
            TimeToFirstTokenP99Ms = Percentile(totals.RecentTimeToFirstTokenMs, 0.99),
            InterTokenP50Ms = Percentile(totals.RecentInterTokenMs, 0.50),
            InterTokenP99Ms = Percentile(totals.RecentInterTokenMs, 0.99),
            Preemptions = totals.Preemptions,
            PrefixCacheQueries = totals.PrefixCacheQueries,
            PrefixCacheHits = totals.PrefixCacheHits,
            Finished = new Dictionary<string, long>(totals.Finished),
            Failed = totals.Failed,
        });
    }

    /// <summary>
    /// The load the replica reports to routers: queued requests and running batches, or for a generation
    /// replica the tokens it still owes (so callers pick the replica with the fewest) and its running sequences.
    /// </summary>
    private static (int Queued, int Running) Load(DynamicBatchScheduler<Pending, InferenceResponse>? scheduler, GenerationEngine? engine) =>
        engine is not null
            ? ((int)Math.Min(int.MaxValue, engine.OutstandingTokens), engine.RunningCount)
            : scheduler is null ? (0, 0) : (scheduler.QueuedCount, scheduler.RunningBatches);

    private static double Percentile(IReadOnlyList<double> samples, double quantile)
    {
        if (samples.Count == 0)
        {
            return 0;
        }

        var sorted = samples.ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(quantile * sorted.Length) - 1)];
    }
}
