namespace Cluster.Grains.Drain;

/// <summary>
/// Whether this silo has started to leave the cluster (<see cref="GracefulDrain"/>). From then on no model replica
/// starts here: a new activation or a retired replica asked to warm up again refuses as not started, so the
/// caller goes to another replica or places one elsewhere. Thread-safe.
/// </summary>
public sealed class SiloLeaving
{
    private volatile bool _leaving;

    /// <summary>True once the silo has started to drain.</summary>
    public bool IsLeaving => _leaving;

    /// <summary>Marks the silo leaving; it never returns.</summary>
    public void Begin() => _leaving = true;
}
