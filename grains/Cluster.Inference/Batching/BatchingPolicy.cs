using Cluster.Contracts.Models;

namespace Cluster.Inference.Batching;

/// <summary>The dynamic batcher's rules for one model replica, derived from the model's configuration.</summary>
public sealed record BatchingPolicy
{
    /// <summary>Largest batch (sum of the requests' first dimensions); 0 or 1 means every request runs alone.</summary>
    public int MaxBatchSize { get; init; }

    /// <summary>Batch sizes dispatched without waiting for the queue delay.</summary>
    public int[] PreferredBatchSizes { get; init; } = [];

    /// <summary>How long the oldest request of a forming batch may wait for more.</summary>
    public TimeSpan MaxQueueDelay { get; init; }

    /// <summary>Priority levels (1 is highest); 0 means one level.</summary>
    public int PriorityLevels { get; init; }

    /// <summary>Priority of requests that give none.</summary>
    public int DefaultPriorityLevel { get; init; }

    /// <summary>What a queue timeout does.</summary>
    public TimeoutAction TimeoutAction { get; init; } = TimeoutAction.Reject;

    /// <summary>Queue timeout of requests that give none; null for none.</summary>
    public TimeSpan? DefaultTimeout { get; init; }

    /// <summary>Whether requests may set their own timeout.</summary>
    public bool AllowTimeoutOverride { get; init; } = true;

    /// <summary>Most queued requests; 0 means unbounded.</summary>
    public int MaxQueueSize { get; init; }

    /// <summary>Whether responses are released in arrival order.</summary>
    public bool PreserveOrdering { get; init; }

    /// <summary>Batches that may run at once (instance count × devices).</summary>
    public int Slots { get; init; } = 1;

    /// <summary>The policy a model's configuration asks for.</summary>
    public static BatchingPolicy From(ModelConfig config, int devices = 1)
    {
        var batching = config.DynamicBatching;
        return new BatchingPolicy
        {
            MaxBatchSize = config.MaxBatchSize,
            PreferredBatchSizes = [.. batching.PreferredBatchSizes.Order()],
            MaxQueueDelay = TimeSpan.FromMicroseconds(batching.MaxQueueDelayMicroseconds),
            PriorityLevels = batching.PriorityLevels,
            DefaultPriorityLevel = batching.PriorityLevels == 0 ? 0 : batching.DefaultPriorityLevel,
            TimeoutAction = batching.TimeoutAction,
            DefaultTimeout = batching.DefaultTimeoutMicroseconds > 0 ? TimeSpan.FromMicroseconds(batching.DefaultTimeoutMicroseconds) : null,
            AllowTimeoutOverride = batching.AllowTimeoutOverride,
            MaxQueueSize = batching.MaxQueueSize,
            PreserveOrdering = batching.PreserveOrdering,
            Slots = Math.Max(1, config.InstanceCount * devices),
        };
    }
}
