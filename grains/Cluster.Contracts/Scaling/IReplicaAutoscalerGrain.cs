namespace Cluster.Contracts.Scaling;

/// <summary>
/// The autoscaler (singleton, key 0): every second it sets each served model version's replica count
/// from the load board (min/max replicas, target queue per replica, upscale and downscale delays),
/// replaces the replicas of draining silos, and stops replicas of versions no longer served.
/// </summary>
public interface IReplicaAutoscalerGrain : IGrainWithIntegerKey
{
    /// <summary>Activates the autoscaler if it is not running (silos call it with their load reports).</summary>
    [Orleans.Concurrency.OneWay]
    Task KeepRunningAsync();

    /// <summary>Runs a scaling pass now rather than at the next tick (a leaving silo calls it so its replicas' replacements start at once).</summary>
    Task ScaleNowAsync();
}
