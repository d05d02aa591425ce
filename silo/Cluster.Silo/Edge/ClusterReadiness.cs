namespace Cluster.Silo.Edge;

/// <summary>
/// Whether this silo serves: it has joined the cluster and warmed its models (set by the start-up
/// report), and no model it was asked to load is still warming up.
/// </summary>
public sealed class ClusterReadiness
{
    private volatile bool _started;
    private int _warming;

    /// <summary>True while the silo serves every loaded model from a warm replica.</summary>
    public bool IsReady => _started && Volatile.Read(ref _warming) == 0;

    /// <summary>Marks the start-up warm-up done.</summary>
    public void MarkReady() => _started = true;

    /// <summary>A model started loading and warming up; the silo is not ready until it ends.</summary>
    public void BeginWarming() => Interlocked.Increment(ref _warming);

    /// <summary>A model finished (or failed) warming up.</summary>
    public void EndWarming() => Interlocked.Decrement(ref _warming);
}
