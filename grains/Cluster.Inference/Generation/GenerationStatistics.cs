namespace Cluster.Inference.Generation;

/// <summary>A snapshot of an engine's counters since it started.</summary>
public sealed record GenerationStatistics
{
    /// <summary>Sequences waiting for a place.</summary>
    public int Waiting { get; init; }

    /// <summary>Sequences in the running batch.</summary>
    public int Running { get; init; }

    /// <summary>Share of the KV cache's blocks in use, 0 to 1.</summary>
    public double KvCacheUsage { get; init; }

    /// <summary>Bytes of KV cache the replica may hold.</summary>
    public long KvCacheBytes { get; init; }

    /// <summary>Prompt tokens of requests admitted (counted once per request, not per recompute).</summary>
    public long PromptTokens { get; init; }

    /// <summary>Prompt tokens looked up in the prefix cache (once per request).</summary>
    public long PrefixCacheQueries { get; init; }

    /// <summary>Prompt tokens served from the prefix cache instead of computed (once per request).</summary>
    public long PrefixCacheHits { get; init; }

    /// <summary>Tokens generated.</summary>
    public long GeneratedTokens { get; init; }

    /// <summary>Requests finished, by finish reason.</summary>
    public IReadOnlyDictionary<string, long> Finished { get; init; } = new Dictionary<string, long>();

    /// <summary>Requests that ended with an error.</summary>
    public long Failed { get; init; }

    /// <summary>Sequences preempted (freed and recomputed later) because the cache ran out.</summary>
    public long Preemptions { get; init; }

    /// <summary>Steps run.</summary>
    public long Steps { get; init; }

    /// <summary>Wall time of every step.</summary>
    public TimeSpan StepTime { get; init; }

    /// <summary>Time inside the model's runs.</summary>
    public TimeSpan RunTime { get; init; }

    /// <summary>Tokens fed to the model (prefill and decode, recomputes included).</summary>
    public long FedTokens { get; init; }

    /// <summary>KV-cache bytes the runner copied.</summary>
    public long KvBytesCopied { get; init; }

    /// <summary>Token slots of the steps' caches and inputs that were padding.</summary>
    public long PaddedSlots { get; init; }

    /// <summary>All token slots of the steps' caches and inputs.</summary>
    public long TotalSlots { get; init; }

    /// <summary>Recent times to first token (submission to first token), in milliseconds.</summary>
    public IReadOnlyList<double> RecentTimeToFirstTokenMs { get; init; } = [];

    /// <summary>Recent times between consecutive tokens of a sequence, in milliseconds.</summary>
    public IReadOnlyList<double> RecentInterTokenMs { get; init; } = [];

    /// <summary>Times to first token (submission to first token) of every request, in seconds, in vLLM's buckets.</summary>
    public HistogramSnapshot TimeToFirstToken { get; init; } = HistogramSnapshot.Empty(LatencyBuckets.TimeToFirstToken);

    /// <summary>Times between consecutive tokens of a sequence, every one, in seconds, in vLLM's buckets.</summary>
    public HistogramSnapshot InterTokenLatency { get; init; } = HistogramSnapshot.Empty(LatencyBuckets.InterToken);

    /// <summary>Times from submission to the end of every request that finished (not failed), in seconds, in vLLM's buckets.</summary>
    public HistogramSnapshot EndToEndLatency { get; init; } = HistogramSnapshot.Empty(LatencyBuckets.EndToEnd);

    /// <summary>Share of step time spent outside the model's runs.</summary>
    public double StepOverheadFraction => StepTime > TimeSpan.Zero ? (StepTime - RunTime) / StepTime : 0;

    /// <summary>KV-cache bytes copied per generated token.</summary>
    public double KvBytesCopiedPerToken => GeneratedTokens > 0 ? (double)KvBytesCopied / GeneratedTokens : 0;

    /// <summary>Share of slots that were padding.</summary>
    public double PaddingFraction => TotalSlots > 0 ? (double)PaddedSlots / TotalSlots : 0;
}
