namespace Cluster.Contracts.Generation;

/// <summary>
/// A request to generate text: a prompt and how to sample. Unset options take the model's defaults
/// (its <c>config.json</c> <c>generation</c> object).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerationRequest
{
    /// <summary>The prompt text.</summary>
    [Id(0)] public string Prompt { get; init; } = "";

    /// <summary>Most tokens to generate.</summary>
    [Id(1)] public int? MaxTokens { get; init; }

    /// <summary>Sampling temperature, 0 (greedy) or more.</summary>
    [Id(2)] public float? Temperature { get; init; }

    /// <summary>Nucleus sampling mass in (0, 1].</summary>
    [Id(3)] public float? TopP { get; init; }

    /// <summary>Keep only the k most likely tokens (0: all).</summary>
    [Id(4)] public int? TopK { get; init; }

    /// <summary>Seed of the sampler: the same seed, prompt and settings give the same tokens.</summary>
    [Id(5)] public ulong? Seed { get; init; }

    /// <summary>Strings that end the generation (not included in the text).</summary>
    [Id(6)] public string[] Stop { get; init; } = [];

    /// <summary>Priority level (lower runs first; 0 is the model's default).</summary>
    [Id(7)] public int Priority { get; init; }

    /// <summary>Time allowed for the whole generation in microseconds (0: none).</summary>
    [Id(8)] public long TimeoutMicroseconds { get; init; }

    /// <summary>Absolute deadline (e.g. from a gRPC deadline); the earlier of this and the timeout applies.</summary>
    [Id(9)] public DateTimeOffset? Deadline { get; init; }

    /// <summary>The caller's request id, echoed in logs.</summary>
    [Id(10)] public string Id { get; init; } = "";

    /// <summary>Whether end-of-sequence tokens are ignored so the generation runs to max tokens (benchmarks).</summary>
    [Id(11)] public bool IgnoreEos { get; init; }

    /// <summary>
    /// A conversation to answer instead of <see cref="Prompt"/>: the model's chat template renders it into the prompt
    /// (leave <see cref="Prompt"/> empty when set).
    /// </summary>
    [Id(12)] public ChatTurn[] Messages { get; init; } = [];

    /// <summary>
    /// Tokens this request already produced on another replica: the replica continues after them as if it had
    /// generated them itself (they count towards max tokens, the sampler's position and stop strings) and streams
    /// only what follows. Callers set it when they resume a generation whose replica was lost or drained.
    /// </summary>
    [Id(13)] public int[] ResumeTokens { get; init; } = [];

    /// <summary>
    /// The experiment assignment key (a user or session id; empty: none): while the model runs an experiment, requests with
    /// the same key always go to the same arm.
    /// </summary>
    [Id(14)] public string AssignmentKey { get; init; } = "";
}

/// <summary>One message of a conversation.</summary>
/// <param name="Role"><c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">The message's text.</param>
[GenerateSerializer, Immutable]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content);

/// <summary>One piece of a generation stream: a token and the text it completed; the last one carries the finish reason and usage.</summary>
[GenerateSerializer, Immutable]
public sealed record GeneratedToken
{
    /// <summary>The token's id (-1 on a final piece that carries no token, e.g. after cancellation).</summary>
    [Id(0)] public int TokenId { get; init; }

    /// <summary>Text this piece adds (may be empty while a multi-byte character or a possible stop string is incomplete).</summary>
    [Id(1)] public string Text { get; init; } = "";

    /// <summary><c>stop</c>, <c>length</c> or <c>cancelled</c> on the last piece; null before.</summary>
    [Id(2)] public string? FinishReason { get; init; }

    /// <summary>Tokens in the prompt.</summary>
    [Id(3)] public int PromptTokens { get; init; }

    /// <summary>Tokens generated so far, this one included.</summary>
    [Id(4)] public int GeneratedTokens { get; init; }

    /// <summary>Prompt tokens the replica served from its prefix cache instead of computing them (0 when none).</summary>
    [Id(5)] public int CachedPromptTokens { get; init; }
}
