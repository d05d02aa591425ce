using Orleans.Concurrency;

namespace Cluster.Contracts.Load;

/// <summary>
/// The cluster's load board (singleton, key 0): every silo publishes its devices' and replicas' load here
/// each <see cref="ReportInterval"/> and gets the whole board back; clients poll it. Placement, routing and
/// the autoscaler read their local copy, so the board is never on a request's path.
/// </summary>
public interface IClusterLoadGrain : IGrainWithIntegerKey
{
    /// <summary>How often silos report.</summary>
    static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Stores a silo's report; returns every active silo's latest.</summary>
    [AlwaysInterleave]
    Task<ClusterLoad> PublishAsync(SiloLoad report);

    /// <summary>Every active silo's latest report.</summary>
    [AlwaysInterleave]
    Task<ClusterLoad> GetAsync();
}
