using System.Runtime.CompilerServices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Batching;
using Cluster.Inference.Generation;
using Cluster.Inference.Telemetry;

namespace Cluster.Grains.Models;

/// <summary>The replica's generation path: a generation model's requests go to the engine its device runs, token by token.</summary>
public sealed partial class ModelBatcherGrain
{
    /// <inheritdoc />
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_retiring)
        {
            throw new ReplicaNotStartedException($"Replica {_key} on silo '{localSilo.Name}' is retiring and did not start the request; retry it on another replica.");
        }

        var replica = await EnsureReadyAsync();
        var engine = replica.Engine
            ?? throw new InvalidInputException($"Model '{_key.Model}' does not generate text: it takes tensors through infer.");
        var started = time.GetTimestamp();
        replica.Statistics.RecordArrival();
        FailureReason? failure = FailureReason.Other;
        using var span = new GenerationSpan(_key.Model, _key.Version, localSilo.Name, request.Id, time);
        try
        {
            var stream = engine.Submit(GenerationJobs.Create(request, engine, time.GetUtcNow()), cancellationToken);
            await foreach (var update in stream.ReadAllAsync(cancellationToken))
            {
                span.Record(update);
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
            replica.Statistics.RecordRequest(failure, time.GetElapsedTime(started));
        }
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
    private static (int Queued, int Running) Load(DynamicBatchScheduler<Pending, Contracts.Tensors.TensorData[]>? scheduler, GenerationEngine? engine) =>
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
