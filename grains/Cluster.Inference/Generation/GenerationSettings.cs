namespace Cluster.Inference.Generation;

/// <summary>How a generation replica's engine schedules steps and spends its KV cache.</summary>
public sealed record GenerationSettings
{
    /// <summary>Token ids that end a sequence with finish reason <c>stop</c>.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Most tokens (prompt plus generated) one sequence may hold.</summary>
    public int ContextLength { get; init; } = 1024;

    /// <summary>Tokens generated when a request does not say.</summary>
    public int DefaultMaxTokens { get; init; } = 64;

    /// <summary>Bytes of KV cache the replica may hold.</summary>
    public long KvCacheBytes { get; init; } = 32L << 20;

    /// <summary>Tokens per cache block: the unit of admission and growth.</summary>
    public int BlockTokens { get; init; } = 16;

    /// <summary>
    /// Whether the engine keeps the KV cache of recent prompts' full blocks (within the cache budget, evicted least
    /// recently used first) and starts a prompt's prefill after the blocks it finds there.
    /// </summary>
    public bool PrefixCaching { get; init; } = true;

    /// <summary>Most sequences in one step.</summary>
    public int MaxRunningSequences { get; init; } = 64;

    /// <summary>Most tokens fed in one step: every running sequence's decode token plus prefill chunks.</summary>
    public int MaxStepTokens { get; init; } = 256;

    /// <summary>Most requests waiting for a place; more are refused at once.</summary>
    public int MaxWaiting { get; init; } = 1024;

    /// <summary>How long a request may wait for cache before it is refused as RESOURCE_EXHAUSTED.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Sampling when a request does not say.</summary>
    public SamplingParameters DefaultSampling { get; init; } = new(1f, 1f, 0, 0);

    /// <summary>How chat messages become a prompt.</summary>
    public ChatTemplate ChatTemplate { get; init; } = ChatTemplate.Named(ChatTemplate.Plain);

    /// <summary>How steps are formed (continuous in production; the others are the benchmark's baselines).</summary>
    public SchedulePolicy Policy { get; init; } = SchedulePolicy.Continuous;
}

/// <summary>How an engine forms its steps.</summary>
public enum SchedulePolicy
{
    /// <summary>Iteration-level: waiting requests join at the next step, finished ones leave at once.</summary>
    Continuous,

    /// <summary>Request-level: a batch forms while nothing runs and runs until its longest member finishes.</summary>
    Static,

    /// <summary>One request at a time.</summary>
    Sequential,
}
