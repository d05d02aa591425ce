namespace Cluster.Client;

/// <summary>Per-request scheduling options (Triton's <c>priority</c> and <c>timeout</c> parameters, plus a deadline) and the experiment assignment
/// key.</summary>
public sealed record InferOptions
{
    /// <summary>Priority level, 1 highest; null for the model's default.</summary>
    public int? Priority { get; init; }

    /// <summary>How long the request may wait in the queue; null for the model's default.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>When the caller stops caring; a request still queued then is rejected.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// The experiment assignment key (a user or session id): while the model runs an experiment, requests with the same
    /// key always land in the same arm; null draws an arm per request.
    /// </summary>
    public string? AssignmentKey { get; init; }
}
