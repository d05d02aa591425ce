using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;

namespace Cluster.Grains.Models;

/// <summary>The registry's experiment decisions: stored with the model's other decisions, so a restart keeps them.</summary>
public sealed partial class ModelRegistryGrain
{
    /// <inheritdoc />
    public Task<Experiment> StartExperimentAsync(Experiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var descriptor = Find(experiment.Model);
        if (descriptor.Experiment is { } running)
        {
            throw new OperationRefusedException($"Model '{experiment.Model}' already runs experiment '{running.Id}'; promote an arm or stop it first.");
        }

        if (descriptor.Unloaded || descriptor.Error is not null)
        {
            throw new OperationRefusedException($"Model '{experiment.Model}' cannot be served, so it cannot run an " +
                $"experiment: {descriptor.Error ?? "unloaded"}.");
        }

        if (ExperimentRules.Problem(experiment, descriptor) is { } problem)
        {
            throw new OperationRefusedException(problem);
        }

        if (experiment.Arms.FirstOrDefault(a => a.Overrides.Variant is { } variant
            && !repository.HasVariant(experiment.Model, a.Version, variant, descriptor.Config.Variants)) is { } lacking)
        {
            throw new OperationRefusedException($"Arm '{lacking.Name}' asks for variant {lacking.Overrides.Variant}, but model '{experiment.Model}' version " +
                $"{lacking.Version} has no such file; write one with cluster quantize or choose another variant.");
        }

        var started = experiment with
        {
            Id = $"{experiment.Model}-{Guid.NewGuid().ToString("N")[..8]}",
            StartedAt = DateTimeOffset.UtcNow,
            Arms = [.. experiment.Arms.Select(a => a with { StoppedReason = null })],
        };
        return SaveExperimentAsync(experiment.Model, started);
    }

    /// <inheritdoc />
    public Task<Experiment> StopArmAsync(string model, string experimentId, string arm, string reason)
    {
        var running = Running(model);
        if (running.Id != experimentId)
        {
            throw new OperationRefusedException($"Model '{model}' runs experiment '{running.Id}', not '{experimentId}'.");
        }

        var stopped = ArmOf(running, arm);
        if (stopped == running.Control)
        {
            throw new OperationRefusedException($"Arm '{arm}' is the control of experiment '{running.Id}' and takes the stopped arms' share; it cannot be " +
                "stopped.");
        }

        var arms = running.Arms.Select(a => a.Name == arm ? a with { StoppedReason = a.StoppedReason ?? reason } : a).ToArray();
        return SaveExperimentAsync(model, running with { Arms = arms });
    }

    /// <inheritdoc />
    public Task<ModelDescriptor> EndExperimentAsync(string model, string? promotedArm)
    {
        var running = Running(model);
        if (promotedArm is null)
        {
            return DecideAsync(model, current => current with { Experiment = null });
        }

        var promoted = ArmOf(running, promotedArm);
        var newest = Find(model).ServedVersions.FirstOrDefault(v => v.IsLoadable)?.Version;
        return DecideAsync(model, current => current with
        {
            Experiment = null,
            Promoted = promoted.Overrides,
            TrafficSplit = promoted.Version == newest ? [] : [new VersionWeight { Version = promoted.Version, Percent = 100 }],
        });
    }

    /// <inheritdoc />
    public async Task<ModelTarget> ResolveArmAsync(string model, string replicaArm)
    {
        var (experimentId, arm) = Experiment.OfReplicaArm(replicaArm);
        var running = Find(model).Experiment;
        var chosen = running?.Id == experimentId ? running.Arm(arm) : null;
        if (chosen is null || chosen.StoppedReason is not null)
        {
            // The replica does not start, so its caller sends the request to the model instead.
            throw new ReplicaNotStartedException(
                $"Experiment '{experimentId}' of model '{model}' has ended, stopped its arm '{arm}' or has no such arm; send the request to the model.");
        }

        var target = await ResolveAsync(model, chosen.Version);
        return target with
        {
            Config = chosen.Overrides.ApplyTo(target.Config),
            Arm = replicaArm,
            Experiment = running,
            SessionPool = chosen.Overrides.NeedsOwnSessions ? replicaArm : "",
            Variant = chosen.Overrides.Variant ?? "",
        };
    }

    private async Task<Experiment> SaveExperimentAsync(string model, Experiment experiment)
    {
        await DecideAsync(model, current => current with { Experiment = experiment });
        return experiment;
    }

    private Experiment Running(string model) =>
        Find(model).Experiment ?? throw new OperationRefusedException($"Model '{model}' runs no experiment; start one with 'experiment start'.");

    private static ExperimentArm ArmOf(Experiment experiment, string arm) =>
        experiment.Arm(arm) ?? throw new OperationRefusedException(
            $"Experiment '{experiment.Id}' has no arm '{arm}'; arms: {string.Join(", ", experiment.Arms.Select(a => a.Name))}.");
}
