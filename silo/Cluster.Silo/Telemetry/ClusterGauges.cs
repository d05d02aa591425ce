using System.Diagnostics.Metrics;
using Cluster.Inference.Telemetry;

namespace Cluster.Silo.Telemetry;

/// <summary>Cluster-wide gauges this silo can see: silos by membership state.</summary>
public sealed class ClusterGauges
{
    /// <summary>Creates the gauges on the inference meter.</summary>
    public ClusterGauges(IMeterFactory meters, IClusterMembershipService membership, ILocalSiloDetails silo)
    {
        var meter = meters.Create(InferenceMetrics.MeterName);
        meter.CreateObservableGauge("cluster_silos", () => Silos(membership, silo.Name), description: "Silos in the cluster by membership state, as the observing silo sees them");
    }

    private static IEnumerable<Measurement<int>> Silos(IClusterMembershipService membership, string observer)
    {
        foreach (var state in membership.CurrentSnapshot.Members.Values.GroupBy(m => m.Status))
        {
            yield return new Measurement<int>(state.Count(), new("state", state.Key.ToString()), new("silo", observer));
        }
    }
}
