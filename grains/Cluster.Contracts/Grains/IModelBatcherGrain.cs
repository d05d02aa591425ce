using Cluster.Contracts.Experiments;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>
/// A replica of one model version, keyed <c>{model}:{version}/{replica}</c>: the dynamic batcher that
/// queues requests, forms batches and runs them on a device of its own silo.
/// </summary>
public interface IModelBatcherGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs one request through the batcher. Cancelling <paramref name="cancellationToken"/> while the
    /// request is queued takes it out of the queue.
    /// </summary>
    Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Generates text from a prompt on a generation model's replica, one piece per token; the last piece carries
    /// the finish reason. Cancelling <paramref name="cancellationToken"/> (or disposing the enumerator) ends the
    /// sequence and frees its KV cache within one step.
    /// </summary>
    IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>A generation replica's engine counters (tokens, latencies, cache use); null for other models.</summary>
    Task<GenerationReplicaStatistics?> GetGenerationStatisticsAsync();

    /// <summary>Queue depth, running batches and readiness.</summary>
    Task<ReplicaStatus> GetStatusAsync();

    /// <summary>The replica's statistics in Triton's shape.</summary>
    Task<ModelStatistics> GetStatisticsAsync();

    /// <summary>What an experiment arm's replica measured; null for a replica outside experiments.</summary>
    Task<ArmStatistics?> GetArmStatisticsAsync();

    /// <summary>Counts a caller's report on the answer to <paramref name="requestId"/>; false when this replica did not answer it (or it was reported
    /// already).</summary>
    Task<bool> RecordFeedbackAsync(string requestId, bool accepted);

    /// <summary>Loads and warms up the replica's sessions so it is ready before traffic (a stopped replica starts again).</summary>
    Task WarmAsync();

    /// <summary>
    /// Retires the replica: new requests fail with ReplicaNotStartedException (callers retry them on another
    /// replica), queued ones still run; then the model is unloaded from its device (unless another replica of
    /// the version uses it) and the replica deactivates a few seconds later.
    /// </summary>
    Task StopAsync();
}
