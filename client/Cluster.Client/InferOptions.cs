namespace Cluster.Client;

/// <summary>Per-request scheduling options (Triton's <c>priority</c> and <c>timeout</c> parameters, plus a deadline).</summary>
public sealed record InferOptions
{
    /// <summary>Priority level, 1 highest; null for the model's default.</summary>
    public int? Priority { get; init; }

    /// <summary>How long the request may wait in the queue; null for the model's default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>When the caller stops caring; a request still queued then is rejected.</summary>
    public DateTimeOffset? Deadline { get; init; }
}
