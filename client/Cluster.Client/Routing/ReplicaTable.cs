using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;

namespace Cluster.Client.Routing;

/// <summary>A replica a request may go to: its key, silo, relative capacity and the queue its silo last reported.</summary>
public sealed record RouteEntry(string Key, string Silo, double Capacity, int ReportedQueue)
{
    /// <summary>Its measured throughput, shared like <see cref="Capacity"/>; 0 until measured.</summary>
    public double MeasuredCapacity { get; init; }
}

/// <summary>
/// The ready replicas of each model version, from one reading of the cluster's load board, with the
/// alias table that draws them by capacity. Immutable.
/// </summary>
public sealed class ReplicaTable
{
    private readonly Dictionary<(string Model, long Version), (RouteEntry[] Replicas, CapacityDraw Draw)> _versions;

    private ReplicaTable(Dictionary<(string Model, long Version), (RouteEntry[], CapacityDraw)> versions)
    {
        _versions = versions;
        Count = versions.Values.Sum(v => v.Item1.Length);
    }

    /// <summary>A table with no replicas.</summary>
    public static ReplicaTable Empty { get; } = new([]);

    /// <summary>
    /// The replicas of each model version that take new requests, weighed by their measured capacity when every one of
    /// them has been measured (a warmed-up replica has), else by their devices' configured speed. Experiment arms'
    /// replicas take only their arm's requests, so they are left out.
    /// </summary>
    public static ReplicaTable From(ClusterLoad load)
    {
        ArgumentNullException.ThrowIfNull(load);
        var grouped = new Dictionary<(string Model, long Version), List<RouteEntry>>();
        foreach (var silo in load.Silos)
        {
            foreach (var replica in silo.Replicas)
            {
                if (!replica.Accepting || replica.Capacity <= 0 || ReplicaKey.IsArm(replica.Key))
                {
                    continue;
                }

                if (!grouped.TryGetValue((replica.Model, replica.Version), out var list))
                {
                    grouped[(replica.Model, replica.Version)] = list = [];
                }

                list.Add(new RouteEntry(replica.Key, silo.Silo, replica.Capacity, replica.Queued) { MeasuredCapacity = replica.MeasuredCapacity });
            }
        }

        return new ReplicaTable(grouped.ToDictionary(g => g.Key, g => WithDraw([.. Measured(g.Value).OrderBy(e => e.Key, StringComparer.Ordinal)])));
    }

    /// <summary>The ready replicas of a model version and the draw by their capacity; no replicas (and a null draw) when none.</summary>
    public (RouteEntry[] Replicas, CapacityDraw? Draw) Of(string model, long version) =>
        _versions.TryGetValue((model, version), out var found) ? found : ([], null);

    /// <summary>How many replicas the table holds.</summary>
    public int Count { get; }

    /// <summary>
    /// The replicas with capacities in the ratio of their measured ones when all have one, scaled to the same total as
    /// the configured ones (so load per capacity keeps its scale); as they are otherwise, since the two do not mix.
    /// </summary>
    private static IEnumerable<RouteEntry> Measured(List<RouteEntry> replicas)
    {
        if (!replicas.TrueForAll(r => r.MeasuredCapacity > 0))
        {
            return replicas;
        }

        var scale = replicas.Sum(r => r.Capacity) / replicas.Sum(r => r.MeasuredCapacity);
        return replicas.Select(r => r with { Capacity = r.MeasuredCapacity * scale });
    }

    private static (RouteEntry[], CapacityDraw) WithDraw(RouteEntry[] replicas) => (replicas, new CapacityDraw([.. replicas.Select(r => r.Capacity)]));
}
