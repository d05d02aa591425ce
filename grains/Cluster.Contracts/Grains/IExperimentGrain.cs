using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>
/// The running experiment of one model (keyed by the model's name): gathers its arms' measurements, compares them,
/// counts feedback, and stops an arm that breaks the guard rail. The experiment itself is the registry's decision.
/// </summary>
public interface IExperimentGrain : IGrainWithStringKey
{
    /// <summary>How often the guard rail is checked.</summary>
    static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Starts checking the guard rail while the model runs an experiment (after a start or a restart).</summary>
    Task WatchAsync();

    /// <summary>Each arm's measurements and its comparison with the control. Throws OperationRefusedException when the model runs no experiment.</summary>
    Task<ExperimentReport> GetReportAsync();

    /// <summary>
    /// Counts whether the answer to <paramref name="requestId"/> was used. Throws InvalidInputException naming the id when no arm
    /// answered it (or it was reported already), OperationRefusedException when the model runs no experiment.
    /// </summary>
    Task RecordFeedbackAsync(string requestId, bool accepted);

    /// <summary>Ends the experiment (promoting <paramref name="promotedArm"/> when given) and retires its arms' replicas.</summary>
    Task<ModelDescriptor> EndAsync(string? promotedArm);
}
