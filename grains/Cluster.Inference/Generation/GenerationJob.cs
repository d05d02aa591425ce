namespace Cluster.Inference.Generation;

/// <summary>A validated request to the engine: token ids in, at most <see cref="MaxTokens"/> tokens out.</summary>
public sealed record GenerationJob
{
    /// <summary>The prompt's token ids (at least one).</summary>
    public required int[] PromptTokens { get; init; }

    /// <summary>Most tokens to generate, <see cref="ResumeTokens"/> included.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>
    /// Tokens already generated for this request elsewhere (a lost or drained replica): they are prefilled after the
    /// prompt, advance the sampler and stop-string matcher as if generated here, and are not streamed again.
    /// </summary>
    public int[] ResumeTokens { get; init; } = [];

    /// <summary>How each token is chosen.</summary>
    public SamplingParameters Sampling { get; init; } = SamplingParameters.Greedy;

    /// <summary>Strings that end the generation when they appear in the text (never emitted themselves).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Lower runs first (Triton's convention: 1 is the highest level); equal levels run in arrival order.</summary>
    public int Priority { get; init; }

    /// <summary>When the request must have finished; it fails with DEADLINE_EXCEEDED after that.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Whether end-of-sequence tokens are ignored (generation runs to max tokens; benchmarks use it).</summary>
    public bool IgnoreEos { get; init; }
}

/// <summary>Why a sequence ended.</summary>
public static class FinishReasons
{
    /// <summary>An end-of-sequence token or a stop string.</summary>
    public const string Stop = "stop";

    /// <summary>Max tokens or the context length reached.</summary>
    public const string Length = "length";

    /// <summary>The caller cancelled.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>One event of a generation stream: a token (with the text it completed) or the end.</summary>
/// <param name="TokenId">The generated token, or -1 on an end event that carries no token.</param>
/// <param name="Text">Text this event adds (may be empty: a token can end inside a multi-byte character or a possible stop string).</param>
/// <param name="FinishReason">Set on the last event.</param>
/// <param name="PromptTokens">Tokens in the prompt.</param>
/// <param name="GeneratedTokens">Tokens generated so far, this one and any resumed ones included.</param>
/// <param name="CachedPromptTokens">Prompt tokens served from the prefix cache rather than computed.</param>
public readonly record struct GenerationUpdate(int TokenId, string Text, string? FinishReason, int PromptTokens, int GeneratedTokens,
    int CachedPromptTokens = 0);
