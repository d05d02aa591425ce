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

    /// <summary>Prompt then generated tokens (resumed ones first).</summary>
    public List<int> Tokens { get; } = [.. job.PromptTokens, .. job.ResumeTokens];

    public int PromptLength { get; } = job.PromptTokens.Length;

    /// <summary>Tokens of <see cref="Tokens"/> held in the KV cache.</summary>
    public int Computed { get; set; }

    public int Generated => Tokens.Count - PromptLength;

    /// <summary>Tokens still to feed before the next one can be sampled.</summary>
    public int Remaining => Tokens.Count - Computed;

    /// <summary>Tokens generated elsewhere before this sequence resumed the request.</summary>
    public int Resumed { get; } = job.ResumeTokens.Length;

    /// <summary>Sampled tokens draw once each, so a resumed sequence's stream continues after its resumed tokens' draws.</summary>
    public TokenSampler Sampler { get; } = new(job.Sampling, job.Sampling.IsGreedy ? 0 : job.ResumeTokens.Length);

    public IncrementalDetokenizer Detokenizer { get; } = detokenizer;

    public StopStringMatcher Stops { get; } = new(job.StopStrings);

    /// <summary>
    /// Feeds the resumed tokens through the detokenizer and stop matcher and discards their text (the caller has it
    /// already), so that text held back at the cut (half a character, a possible stop string) comes out as an
    /// undisturbed run would emit it. False when they already complete a stop string.
    /// </summary>
    public bool ReplayResumed()
    {
        foreach (var token in Job.ResumeTokens)
        {
            Stops.Append(Detokenizer.Add(token));
        }

        return !Stops.Stopped;
    }

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
