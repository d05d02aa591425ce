namespace Cluster.Contracts.Generation;

/// <summary>A generation replica's counters since its engine started, and its cache use now.</summary>
[GenerateSerializer, Immutable]
public sealed record GenerationReplicaStatistics
{
    /// <summary>The replica (<c>{model}:{version}/{replica}</c>).</summary>
    [Id(0)] public string Replica { get; init; } = "";

    /// <summary>Sequences in the running batch.</summary>
    [Id(1)] public int Running { get; init; }

    /// <summary>Requests waiting for a place.</summary>
    [Id(2)] public int Waiting { get; init; }

    /// <summary>Share of the KV cache in use, 0 to 1.</summary>
    [Id(3)] public double KvCacheUsage { get; init; }

    /// <summary>The KV cache budget in bytes.</summary>
    [Id(4)] public long KvCacheBytes { get; init; }

    /// <summary>Prompt tokens taken in.</summary>
    [Id(5)] public long PromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    [Id(6)] public long GeneratedTokens { get; init; }

    /// <summary>Median time to first token over recent requests, in milliseconds.</summary>
    [Id(7)] public double TimeToFirstTokenP50Ms { get; init; }

    /// <summary>99th percentile time to first token, in milliseconds.</summary>
    [Id(8)] public double TimeToFirstTokenP99Ms { get; init; }

    /// <summary>Median time between tokens of a sequence, in milliseconds.</summary>
    [Id(9)] public double InterTokenP50Ms { get; init; }

    /// <summary>99th percentile time between tokens, in milliseconds.</summary>
    [Id(10)] public double InterTokenP99Ms { get; init; }

    /// <summary>Sequences preempted because the cache ran out (recomputed later).</summary>
    [Id(11)] public long Preemptions { get; init; }

    /// <summary>Requests finished, by finish reason (<c>stop</c>, <c>length</c>, <c>cancelled</c>).</summary>
    [Id(12)] public Dictionary<string, long> Finished { get; init; } = [];

    /// <summary>Requests that ended with an error.</summary>
    [Id(13)] public long Failed { get; init; }

    /// <summary>Prompt tokens looked up in the prefix cache.</summary>
    [Id(14)] public long PrefixCacheQueries { get; init; }

    /// <summary>Prompt tokens found in the prefix cache (not recomputed).</summary>
    [Id(15)] public long PrefixCacheHits { get; init; }
}
