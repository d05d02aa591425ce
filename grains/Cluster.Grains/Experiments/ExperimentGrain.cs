using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Logging;
using Cluster.Contracts.Models;
using Cluster.Inference.Experiments;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Experiments;

/// <summary>
/// One model's running experiment: each arm is served by its replica <c>{model}:{version}@{experiment}.{arm}/0</c>, which
/// measures its own requests; this grain reads them for reports and for the guard rail, checked every
/// <see cref="IExperimentGrain.CheckInterval"/>. Holds nothing that a restart would need: the experiment is the registry's.
/// </summary>
public sealed partial class ExperimentGrain(TimeProvider time, ILogger<ExperimentGrain> logger) : Grain, IExperimentGrain
{
    private IGrainTimer? _checks;

    private string Model => this.GetPrimaryKeyString();

    private IModelRegistryGrain Registry => GrainFactory.GetGrain<IModelRegistryGrain>(0);

    /// <inheritdoc />
    public Task WatchAsync()
    {
        _checks ??= this.RegisterGrainTimer(CheckAsync,
            new GrainTimerCreationOptions(IExperimentGrain.CheckInterval, IExperimentGrain.CheckInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<ExperimentReport> GetReportAsync()
    {
        var experiment = await RunningAsync() ?? throw NoExperiment();
        return ExperimentComparison.Report(experiment, await MeasureAsync(experiment), time.GetUtcNow());
    }

    /// <inheritdoc />
    public async Task RecordFeedbackAsync(string requestId, bool accepted)
    {
        var experiment = await RunningAsync() ?? throw NoExperiment();
        if (string.IsNullOrEmpty(requestId))
        {
            throw new InvalidInputException($"Feedback for model '{Model}': id is empty; give the id the request was answered with.");
        }

        foreach (var arm in experiment.Arms)
        {
            if (await ReplicaOf(experiment, arm).RecordFeedbackAsync(requestId, accepted))
            {
                return;
            }
        }

        throw new RequestNotFoundException(
            $"Feedback for model '{Model}': id '{LogText.Bounded(requestId)}' was not answered by experiment '{experiment.Id}' (or its feedback was counted " +
                $"already, or it is older than the last {ArmRecorder.AnsweredCapacity} answers of its arm).");
    }

    /// <inheritdoc />
    public async Task<ModelDescriptor> EndAsync(string? promotedArm)
    {
        var experiment = await RunningAsync() ?? throw NoExperiment();
        var model = await Registry.EndExperimentAsync(Model, promotedArm);
        _checks?.Dispose();
        _checks = null;
        await Task.WhenAll(experiment.Arms.Select(a => ReplicaOf(experiment, a).StopAsync()));
        return model;
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        var experiment = await RunningAsync();
        if (experiment is null)
        {
            _checks?.Dispose();
            _checks = null;
            return;
        }

        var measured = await MeasureAsync(experiment);
        var now = time.GetUtcNow();
        for (var i = 1; i < experiment.Arms.Length; i++)
        {
            var arm = experiment.Arms[i];
            if (arm.StoppedReason is null && GuardRailCheck.Breach(experiment.GuardRail, measured[0], measured[i], now) is { } reason)
            {
                // The replica retires first: callers still routing to the arm from a cached resolution are turned away at once
                // (their requests go to the model's replicas, and they resolve the model again), never to a failing arm.
                await ReplicaOf(experiment, arm).StopAsync();
                await Registry.StopArmAsync(Model, experiment.Id, arm.Name, reason);
                ExperimentMetrics.RecordStop(Model, experiment.Id, arm.Name);
                LogArmStopped(Model, experiment.Id, arm.Name, reason, experiment.Control.Name);
            }
        }
    }

    private async Task<ArmStatistics[]> MeasureAsync(Experiment experiment) =>
        [.. (await Task.WhenAll(experiment.Arms.Select(a => ReplicaOf(experiment, a).GetArmStatisticsAsync()))).Select(s => s ?? new ArmStatistics())];

    private async Task<Experiment?> RunningAsync() => (await Registry.ResolveRetryingAsync(Model, null)).Experiment;

    private IModelBatcherGrain ReplicaOf(Experiment experiment, ExperimentArm arm) =>
        GrainFactory.GetGrain<IModelBatcherGrain>(new ReplicaKey(Model, arm.Version, 0, experiment.ReplicaArm(arm.Name)).ToString());

    private OperationRefusedException NoExperiment() => new($"Model '{Model}' runs no experiment; start one with 'experiment start'.");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Experiment {Experiment} of {Model}: arm {Arm} stopped by its guard rail ({Reason}); its share goes to {Control}")]
    private partial void LogArmStopped(string model, string experiment, string arm, string reason, string control);
}
