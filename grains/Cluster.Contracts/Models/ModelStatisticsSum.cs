namespace Cluster.Contracts.Models;

/// <summary>A model version's statistics over all its replicas: each replica counts only what it served.</summary>
public static class ModelStatisticsSum
{
    /// <summary>
    /// Counts and times summed, batch sizes merged, the latest inference time kept. The recent p50 and p99 are the
    /// highest of the replicas' (each replica keeps only its own recent latencies): a bound, not a pooled percentile.
    /// </summary>
    public static ModelStatistics Of(string model, long version, IReadOnlyCollection<ModelStatistics> replicas) => new()
    {
        Model = model,
        Version = version,
        LastInferenceMs = replicas.Select(r => r.LastInferenceMs).DefaultIfEmpty().Max(),
        InferenceCount = replicas.Sum(r => r.InferenceCount),
        ExecutionCount = replicas.Sum(r => r.ExecutionCount),
        Success = Sum(replicas, r => r.Success),
        Fail = Sum(replicas, r => r.Fail),
        Queue = Sum(replicas, r => r.Queue),
        ComputeInput = Sum(replicas, r => r.ComputeInput),
        ComputeInfer = Sum(replicas, r => r.ComputeInfer),
        ComputeOutput = Sum(replicas, r => r.ComputeOutput),
        Batches = [.. replicas.SelectMany(r => r.Batches).GroupBy(b => b.BatchSize).OrderBy(g => g.Key).Select(g => new BatchStatistics
        {
            BatchSize = g.Key,
            ComputeInput = Sum(g, b => b.ComputeInput),
            ComputeInfer = Sum(g, b => b.ComputeInfer),
            ComputeOutput = Sum(g, b => b.ComputeOutput),
        })],
        Tokens = replicas.Aggregate(default(TokenCounts), (total, r) => total + r.Tokens),
        RecentP50Ms = replicas.Select(r => r.RecentP50Ms).DefaultIfEmpty().Max(),
        RecentP99Ms = replicas.Select(r => r.RecentP99Ms).DefaultIfEmpty().Max(),
    };

    private static StatisticDuration Sum<T>(IEnumerable<T> items, Func<T, StatisticDuration> pick) =>
        items.Select(pick)
            .Aggregate(default(StatisticDuration), (total, d) =>
                new StatisticDuration { Count = total.Count + d.Count, Nanoseconds = total.Nanoseconds + d.Nanoseconds });
}
