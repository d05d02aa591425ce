namespace Cluster.Silo.Edge;

/// <summary>Whether this silo has joined the cluster and warmed its served models (set by the start-up report).</summary>
public sealed class ClusterReadiness
{
    private volatile bool _ready;

    /// <summary>True once the silo serves.</summary>
    public bool IsReady => _ready;

    /// <summary>Marks the silo ready.</summary>
    public void MarkReady() => _ready = true;
}
