using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>
/// The catalogue of models (singleton, key 0): what the repository holds and which versions are served,
/// with the operator's decisions (unloaded models, version policy, traffic split, replica bounds) applied
/// and kept in grain storage. Refused changes throw OperationRefusedException; unsaved ones ClusterStateException.
/// </summary>
public interface IModelRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Every model, including those that failed to load (with their errors).</summary>
    Task<ModelDescriptor[]> GetModelsAsync();

    /// <summary>
    /// The model version a request should use: <paramref name="version"/> if given, otherwise one chosen by
    /// the model's traffic split, or the newest served. Throws ModelNotFoundException for unknown models or
    /// versions, ModelUnavailableException for ones that cannot be served.
    /// </summary>
    Task<ModelTarget> ResolveAsync(string model, long? version);

    /// <summary>Reads the repository again.</summary>
    Task RescanAsync();

    /// <summary>
    /// Loads a model (reading its folder again) or unloads it; an unloaded model answers requests with
    /// ModelUnavailableException until loaded again. Returns the model as now catalogued.
    /// </summary>
    Task<ModelDescriptor> SetLoadedAsync(string model, bool loaded);

    /// <summary>Adds a version to the served ones (reading the model's folder again) or takes it out (and out of the traffic split).</summary>
    Task<ModelDescriptor> SetVersionLoadedAsync(string model, long version, bool loaded);

    /// <summary>Replaces the model's version policy; the traffic split keeps only versions still served.</summary>
    Task<ModelDescriptor> SetVersionPolicyAsync(string model, VersionPolicy policy);

    /// <summary>Sets the traffic split (empty clears it).</summary>
    Task<ModelDescriptor> SetTrafficSplitAsync(string model, VersionWeight[] split);

    /// <summary>Sets the replica bounds.</summary>
    Task<ModelDescriptor> SetReplicaBoundsAsync(string model, int min, int max);

    /// <summary>
    /// Starts <paramref name="experiment"/> on its model (its id and start time are given here), replacing none: a model runs
    /// one experiment at a time. Refuses a definition that breaks <see cref="ExperimentRules"/>, naming the field.
    /// </summary>
    Task<Experiment> StartExperimentAsync(Experiment experiment);

    /// <summary>Stops one arm of the model's running experiment <paramref name="experimentId"/> for <paramref name="reason"/>; its share goes to the
    /// control.</summary>
    Task<Experiment> StopArmAsync(string model, string experimentId, string arm, string reason);

    /// <summary>
    /// Ends the model's experiment; with <paramref name="promotedArm"/>, that arm's version and settings become the model's
    /// (its settings apply to replicas started from now on; the admin grain restarts the running ones). Returns the model as now catalogued.
    /// </summary>
    Task<ModelDescriptor> EndExperimentAsync(string model, string? promotedArm);

    /// <summary>
    /// The target an experiment arm's replica serves (<paramref name="replicaArm"/> as in <see cref="Experiment.ReplicaArm"/>): the arm's
    /// version with its settings applied. Throws ModelUnavailableException when that experiment no longer runs.
    /// </summary>
    Task<ModelTarget> ResolveArmAsync(string model, string replicaArm);
}
