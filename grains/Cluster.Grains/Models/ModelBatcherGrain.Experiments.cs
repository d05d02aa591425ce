using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;
using Cluster.Inference.Experiments;

namespace Cluster.Grains.Models;

/// <summary>
/// A replica of an experiment arm (its key names the arm) measures each request for the arm's comparison and guard
/// rail, and counts callers' feedback on its answers.
/// </summary>
public sealed partial class ModelBatcherGrain
{
    /// <summary>What this replica measures for its experiment arm; null for a replica outside experiments.</summary>
    private ArmRecorder? _arm;

    /// <inheritdoc />
    /// <remarks>
    /// Awaited here, on the activation: the batcher's answer then comes back to the activation in one hand-off, where the grain call's
    /// response is sent from.
    /// </remarks>
    public async Task<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken = default) =>
        await InferOnAsync(null, request, cancellationToken);

    /// <summary>Serves a request (<see cref="ServeAsync"/>), measured for the arm when this replica serves an experiment arm.</summary>
    private ValueTask<InferenceResponse> InferOnAsync(Replica? replica, InferenceRequest request, CancellationToken cancellationToken) =>
        _arm is null ? ServeAsync(replica, request, cancellationToken) : ServeArmAsync(replica, request, cancellationToken);

    private async ValueTask<InferenceResponse> ServeArmAsync(Replica? replica, InferenceRequest request, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        bool? failed = true;
        try
        {
            var response = await ServeAsync(replica, request, cancellationToken);
            failed = false;
            return response with { Arm = _key.Arm };
        }
        catch (Exception e) when (e is InvalidInputException or OperationCanceledException or ReplicaNotStartedException)
        {
            // The caller's fault or a request that never ran (and is retried): neither says anything about the arm.
            failed = null;
            throw;
        }
        finally
        {
            if (failed is { } outcome)
            {
                RecordArm(request.Id, time.GetElapsedTime(started), outcome);
            }
        }
    }

    /// <summary>
    /// Measures one request of this replica's arm (no-op outside experiments): its latency and outcome, and for a generation
    /// the time to its first token (null when none came) and the tokens it generated.
    /// </summary>
    private void RecordArm(string id, TimeSpan elapsed, bool failed, TimeSpan? firstToken = null, int? tokens = null)
    {
        if (_arm is null)
        {
            return;
        }

        _arm.Record(id, elapsed, failed, firstToken, tokens ?? 0);
        var (experiment, arm) = Experiment.OfReplicaArm(_key.Arm);
        ExperimentMetrics.RecordRequest(_key.Model, experiment, arm, elapsed, failed);
        if (tokens is { } generated)
        {
            ExperimentMetrics.RecordGeneration(_key.Model, experiment, arm, firstToken, generated);
        }
    }

    /// <inheritdoc />
    public Task<ArmStatistics?> GetArmStatisticsAsync() => Task.FromResult(_arm?.Snapshot());

    /// <inheritdoc />
    public Task<bool> RecordFeedbackAsync(string requestId, bool accepted)
    {
        if (_arm?.RecordFeedback(requestId, accepted) != true)
        {
            return Task.FromResult(false);
        }

        var (experiment, arm) = Experiment.OfReplicaArm(_key.Arm);
        ExperimentMetrics.RecordFeedback(_key.Model, experiment, arm, accepted);
        return Task.FromResult(true);
    }
}
