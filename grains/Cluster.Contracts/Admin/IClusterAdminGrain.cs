using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;
using Orleans.Concurrency;

namespace Cluster.Contracts.Admin;

/// <summary>
/// The cluster's admin API (singleton, key 0): what the console and the edge's repository RPCs read and
/// steer. Operator decisions (loaded versions, version policy, traffic split, replica bounds, drained
/// silos) are kept in grain storage and survive a restart. Refused operations throw
/// OperationRefusedException and change nothing; a decision that cannot be saved throws ClusterStateException.
/// </summary>
public interface IClusterAdminGrain : IGrainWithIntegerKey
{
    /// <summary>Every silo the membership table knows, with its state, metadata and drain flag.</summary>
    [AlwaysInterleave]
    Task<ClusterStatus> GetStatusAsync();

    /// <summary>Every device of every active silo: kind, memory, busy fraction, health, loaded models.</summary>
    [AlwaysInterleave]
    Task<DeviceView[]> GetDevicesAsync();

    /// <summary>Every model with its versions' states, replicas and recent traffic.</summary>
    [AlwaysInterleave]
    Task<ModelView[]> GetModelsAsync();

    /// <summary>One model; throws ModelNotFoundException.</summary>
    [AlwaysInterleave]
    Task<ModelView> GetModelAsync(string model);

    /// <summary>
    /// Serves a model again (reading its folder again), or adds <paramref name="version"/> to the versions
    /// it serves. Does not warm up: call <see cref="WarmAsync"/> next.
    /// </summary>
    Task<ModelView> LoadAsync(string model, long? version);

    /// <summary>
    /// Stops serving a model, or one version of it, and stops the affected replicas. Without
    /// <paramref name="force"/> it refuses to take a version out of the traffic split, or to leave the
    /// model with no served version while it had requests in the last minute.
    /// </summary>
    Task<ModelView> UnloadAsync(string model, long? version, bool force);

    /// <summary>Loads and warms up the replica of each served version (or of <paramref name="version"/>) on its device.</summary>
    [AlwaysInterleave]
    Task<ReplicaView[]> WarmAsync(string model, long? version);

    /// <summary>
    /// Writes the <paramref name="variant"/> (<c>int8</c> or <c>fp16</c>) of a version's FP32 file (the newest served one
    /// when <paramref name="version"/> is null) into the repository of every active silo, one silo after another, each with
    /// its accuracy report against FP32; replicas started afterwards load it where their device prefers it.
    /// </summary>
    Task<VariantReport[]> QuantizeAsync(string model, long? version, string variant);

    /// <summary>Sets which versions are served (latest N, all, specific); replicas of versions no longer served stop.</summary>
    Task<ModelView> SetVersionPolicyAsync(string model, VersionPolicy policy);

    /// <summary>Shares versionless requests between served versions (percentages summing to 100); empty clears the split.</summary>
    Task<ModelView> SetTrafficSplitAsync(string model, VersionWeight[] split);

    /// <summary>Stores the replica bounds of a model; the autoscaler keeps each served version's replica count between them.</summary>
    Task<ModelView> SetReplicaBoundsAsync(string model, int min, int max);

    /// <summary>Starts an A/B test on a model (see <see cref="Grains.IModelRegistryGrain.StartExperimentAsync"/>) and its guard rail.</summary>
    Task<Experiment> StartExperimentAsync(Experiment experiment);

    /// <summary>The model's running experiment with each arm's measurements and comparison with the control.</summary>
    Task<ExperimentReport> GetExperimentAsync(string model);

    /// <summary>Ends the model's experiment, making <paramref name="promotedArm"/> the model's configuration when given (its replicas restart under it, one at
    /// a time).</summary>
    Task<ModelView> EndExperimentAsync(string model, string? promotedArm);

    /// <summary>Marks a silo draining (no new model replicas are placed on it, and the autoscaler moves its replicas elsewhere) or not.</summary>
    Task<ClusterStatus> SetDrainingAsync(string silo, bool draining);

    /// <summary>Names of the silos marked draining, and of the silos leaving (see <see cref="MarkLeavingAsync"/>).</summary>
    [AlwaysInterleave]
    Task<string[]> GetDrainingSilosAsync();

    /// <summary>Names of the silos leaving (see <see cref="MarkLeavingAsync"/>): no model replica is placed on them, whatever else is draining.</summary>
    [AlwaysInterleave]
    Task<string[]> GetLeavingSilosAsync();

    /// <summary>
    /// Marks the silo <paramref name="silo"/> at <paramref name="address"/> leaving: it is shutting down, so it counts
    /// as draining until membership declares that address dead. Not stored: a silo marks itself when it stops.
    /// </summary>
    [AlwaysInterleave]
    Task MarkLeavingAsync(string silo, SiloAddress address);
}
