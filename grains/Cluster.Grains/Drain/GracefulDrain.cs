using Cluster.Contracts.Admin;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Scaling;
using Cluster.Grains.Load;
using Cluster.Inference.Replicas;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Drain;

/// <summary>
/// Drains a stopping silo (host StopAsync, so SIGTERM) while it is still a full member of the cluster, before
/// Orleans deactivates its grains: the silo marks itself leaving (it counts as draining, so no replica is placed
/// on it, and none starts here: <see cref="SiloLeaving"/>), asks the autoscaler to place a replacement elsewhere for each of its replicas, and waits while each
/// old replica serves until its replacement is warm, then refuses new requests as not started (routers send
/// them elsewhere) and finishes its queued and running batches. Replicas still here after
/// <see cref="ReplaceWithin"/> (no other silo, or a replacement too slow to warm) stop the same way without one.
/// It runs in Orleans' Active stage, beside the gateway telling its clients to send their new requests to other
/// gateways and then waiting <see cref="GatewayNotice"/> (Orleans 10 waits 0 s by default), so that requests
/// already sent through this gateway are answered before it closes its connections.
/// </summary>
internal sealed partial class GracefulDrain(
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    ReplicaBoard replicas,
    ClusterLoadView board,
    SiloLeaving leaving,
    TimeProvider time,
    ILogger<GracefulDrain> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long the silo waits for replacements of its replicas before it stops the rest without one.</summary>
    public static readonly TimeSpan ReplaceWithin = TimeSpan.FromSeconds(3.5);

    /// <summary>The most the whole drain takes; the host's shutdown timeout (8 s) must leave room for Orleans after it.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(4.5);

    /// <summary>
    /// How long the gateway waits, after telling its clients to send elsewhere, before the silo goes on stopping
    /// (<c>SiloMessagingOptions.ClientGatewayShutdownNotificationTimeout</c>): a request sent through it just
    /// before has this long to be answered.
    /// </summary>
    public static readonly TimeSpan GatewayNotice = TimeSpan.FromSeconds(4);

    /// <summary>How long the stopped replicas keep refusing requests after the drain: a load report and a router's reading of the board.</summary>
    private static readonly TimeSpan RoutersCatchUp = IClusterLoadGrain.ReportInterval * 3;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(GracefulDrain), ServiceLifecycleStage.Active, _ => Task.CompletedTask, DrainAsync);
    }

    private async Task DrainAsync(CancellationToken _)
    {
        var started = time.GetTimestamp();
        // Its own budget, not the host's stop token: a drain cut short by whatever stopped before it would lose the
        // requests queued here, and a silo that stops at all should stop without losing them.
        using var budget = new CancellationTokenSource(Budget, time);
        leaving.Begin();
        var before = replicas.Entries.Count();
        LogDraining(localSilo.Name, before);
        var replaced = 0;
        try
        {
            await grains.GetGrain<IClusterAdminGrain>(0).MarkLeavingAsync(localSilo.Name, localSilo.SiloAddress).WaitAsync(budget.Token);
            if (before > 0 && board.Current.Silos.Any(s => s.Silo != localSilo.Name))
            {
                await grains.GetGrain<IReplicaAutoscalerGrain>(0).ScaleNowAsync().WaitAsync(budget.Token);

                // The autoscaler retires each replica here once its replacement is warm; a retired replica leaves the board once its queue is done.
                while (replicas.Entries.Any(r => r.Ready) && time.GetElapsedTime(started) < ReplaceWithin)
                {
                    await Task.Delay(Poll, time, budget.Token);
                }

                replaced = before - replicas.Entries.Count();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReplacementFailed(localSilo.Name, e.Message);
        }

        var left = replicas.Entries.Select(r => r.Key).ToList();
        try
        {
            await Task.WhenAll(left.Select(k => grains.GetGrain<IModelBatcherGrain>(k).StopAsync())).WaitAsync(budget.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogStopFailed(localSilo.Name, e.Message);
        }

        // Routers learn that the replicas are gone from the next report and their next reading of the board;
        // until then the retired replicas refuse what still comes as not started (retried elsewhere), which a
        // silo that had gone on stopping might not answer at all.
        if (before > 0)
        {
            await Task.Delay(RoutersCatchUp, time, budget.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        LogDrained(localSilo.Name, replaced, left.Count, replicas.Entries.Count(), time.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is stopping: draining {Count} model replica(s)")]
    private partial void LogDraining(string silo, int count);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Silo {Silo} drained in {Milliseconds:0} ms: {Replaced} replica(s) replaced elsewhere, {Stopped} stopped without a replacement, {Left} " +
            "still running")]
    private partial void LogDrained(string silo, int replaced, int stopped, int left, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} could not have its replicas replaced before stopping: {Error}")]
    private partial void LogReplacementFailed(string silo, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} could not finish the queues of its replicas before stopping: {Error}")]
    private partial void LogStopFailed(string silo, string error);
}
