using System.Diagnostics.Metrics;
using Cluster.Inference.Telemetry;

namespace Cluster.Silo.Telemetry;

/// <summary>
/// Cluster-wide gauges this silo can see: silos by membership state, and silos draining (shutting
/// down gracefully while their activations move or finish).
/// </summary>
public sealed class ClusterGauges : IDisposable
{
    private readonly IDisposable[] _gauges;

    /// <summary>Registers the gauges' readings.</summary>
    public ClusterGauges(IClusterMembershipService membership, ILocalSiloDetails silo) => _gauges =
    [
        ProcessGauges.Register("cluster_silos", "Silos in the cluster by membership state, as the observing silo sees them", () =>
            Silos(membership, silo.Name)),
        ProcessGauges.Register("cluster_silos_draining", "Silos shutting down gracefully (ShuttingDown or Stopping), as the observing silo sees them", () =>
            Draining(membership, silo.Name)),
    ];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var gauge in _gauges)
        {
            gauge.Dispose();
        }
    }

    private static IEnumerable<Measurement<double>> Draining(IClusterMembershipService membership, string observer)
    {
        var draining = membership.CurrentSnapshot.Members.Values.Count(m => m.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping);
        yield return new Measurement<double>(draining, new KeyValuePair<string, object?>("silo", observer));
    }

    private static IEnumerable<Measurement<double>> Silos(IClusterMembershipService membership, string observer)
    {
        foreach (var state in membership.CurrentSnapshot.Members.Values.GroupBy(m => m.Status))
        {
            yield return new Measurement<double>(state.Count(), new("state", state.Key.ToString()), new("silo", observer));
        }
    }
}
