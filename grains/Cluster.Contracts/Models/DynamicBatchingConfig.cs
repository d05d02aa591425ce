namespace Cluster.Contracts.Models;

/// <summary>Triton's <c>dynamic_batching</c> settings of a model.</summary>
[GenerateSerializer, Immutable]
public sealed record DynamicBatchingConfig
{
    /// <summary>Batch sizes worth dispatching at once, without waiting for the queue delay.</summary>
    [Id(0)] public int[] PreferredBatchSizes { get; init; } = [];

    /// <summary>How long a request may wait for others to join its batch; 0 sends what is queued as soon as a device is free.</summary>
    [Id(1)] public long MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Whether responses are returned in the order requests arrived.</summary>
    [Id(2)] public bool PreserveOrdering { get; init; }

    /// <summary>Number of priority levels (1 is highest); 0 means priorities are not used.</summary>
    [Id(3)] public int PriorityLevels { get; init; }

    /// <summary>Priority of requests that give none (1..PriorityLevels).</summary>
    [Id(4)] public int DefaultPriorityLevel { get; init; }

    /// <summary>What happens to a request whose timeout passes while it is queued.</summary>
    [Id(5)] public TimeoutAction TimeoutAction { get; init; } = TimeoutAction.Reject;

    /// <summary>Queue timeout of requests that give none; 0 means no timeout.</summary>
    [Id(6)] public long DefaultTimeoutMicroseconds { get; init; }

    /// <summary>Whether a request may set its own timeout.</summary>
    [Id(7)] public bool AllowTimeoutOverride { get; init; } = true;

    /// <summary>Most requests queued at once; more are rejected at once. 0 means unbounded.</summary>
    [Id(8)] public int MaxQueueSize { get; init; }
}

/// <summary>Triton's <c>timeout_action</c>.</summary>
public enum TimeoutAction
{
    /// <summary>Fail the request.</summary>
    Reject,

    /// <summary>Keep it, behind every request that has not timed out.</summary>
    Delay,
}
