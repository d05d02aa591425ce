using System.Diagnostics.Metrics;
using Cluster.Inference.Telemetry;

namespace Cluster.Silo.Telemetry;

/// <summary>Cluster-wide gauges this silo can see: silos by membership state.</summary>
public sealed class ClusterGauges : IDisposable
{
    private readonly IDisposable _silos;

    /// <summary>Registers the gauges' readings.</summary>
    public ClusterGauges(IClusterMembershipService membership, ILocalSiloDetails silo) =>
        _silos = ProcessGauges.Register("cluster_silos", "Silos in the cluster by membership state, as the observing silo sees them", () => Silos(membership, silo.Name));

    /// <inheritdoc />
    public void Dispose() => _silos.Dispose();

    private static IEnumerable<Measurement<double>> Silos(IClusterMembershipService membership, string observer)
    {
        foreach (var state in membership.CurrentSnapshot.Members.Values.GroupBy(m => m.Status))
        {
            yield return new Measurement<double>(state.Count(), new("state", state.Key.ToString()), new("silo", observer));
        }
    }
}
