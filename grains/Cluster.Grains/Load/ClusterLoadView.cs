using Cluster.Contracts.Load;


namespace Cluster.Grains.Load;

/// <summary>This silo's copy of the cluster's load board, refreshed by <see cref="LoadReportPublisher"/>; read without a call.</summary>
public sealed class ClusterLoadView
{
    private volatile ClusterLoad _current = ClusterLoad.Empty;

    /// <summary>The latest board.</summary>
    public ClusterLoad Current => _current;

    /// <summary>Replaces the board.</summary>
    public void Update(ClusterLoad load) => _current = load;
}
