using System.Threading.Channels;

namespace Cluster.Inference.Generation;

/// <summary>
/// One request inside the engine: its tokens (prompt then generated), how many of them are in the KV
/// cache, its sampler, detokenizer and stop matcher, and the channel its caller reads.
/// </summary>
internal sealed class GenerationSequence(long id, GenerationJob job, IncrementalDetokenizer detokenizer, DateTimeOffset submitted)
{
    public long Id { get; } = id;

    public GenerationJob Job { get; } = job;

    /// <summary>Prompt then generated tokens.</summary>
    public List<int> Tokens { get; } = [.. job.PromptTokens];

    public int PromptLength { get; } = job.PromptTokens.Length;

    /// <summary>Tokens of <see cref="Tokens"/> held in the KV cache.</summary>
    public int Computed { get; set; }

    public int Generated => Tokens.Count - PromptLength;

    /// <summary>Tokens still to feed before the next one can be sampled.</summary>
    public int Remaining => Tokens.Count - Computed;

    public TokenSampler Sampler { get; } = new(job.Sampling);

    public IncrementalDetokenizer Detokenizer { get; } = detokenizer;

    public StopStringMatcher Stops { get; } = new(job.StopStrings);

    public Channel<GenerationUpdate> Output { get; } = Channel.CreateUnbounded<GenerationUpdate>(new() { SingleWriter = true, SingleReader = true });

    public DateTimeOffset Submitted { get; } = submitted;

    /// <summary>When it last started waiting (submitted, or preempted).</summary>
    public DateTimeOffset WaitingSince { get; set; } = submitted;

    public long SubmittedTimestamp { get; init; }

    public long LastTokenTimestamp { get; set; }

    public int Preemptions { get; set; }

    /// <summary>The chained hashes of the prompt's full blocks (the prefix cache's keys), once looked up.</summary>
    public ulong[]? PromptHashes { get; set; }

    /// <summary>Cached prefix blocks found at admission, to copy into its cache in its next step.</summary>
    public List<PrefixBlock> PrefixBlocks { get; set; } = [];

    /// <summary>Prompt blocks already in the prefix cache or saved to it.</summary>
    public int SavedBlocks { get; set; }

    /// <summary>Prompt tokens served from the prefix cache when it was first admitted.</summary>
    public int CachedPromptTokens { get; set; }

    public volatile bool CancelRequested;

    public CancellationTokenRegistration Registration { get; set; }
}
