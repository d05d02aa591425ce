using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Drain;

/// <summary>
/// Keeps a stopping silo's messaging open until the other silos have heard that it is dead. Orleans marks the silo dead in
/// membership and gossips it at the stage just before it stops the silo's message center; a request another silo sends it after
/// that stop (its directory still pointed there) is dropped without a rejection, and its caller waits for the response timeout. Held
/// here, the silo still rejects such a request (the caller retries it elsewhere: it never ran) until its peers stop sending any. The
/// hold waits, at most <see cref="DeadWithin"/>, until membership here shows the silo dead, then <see cref="GossipGrace"/> for the
/// gossip to reach the others; a silo with no active peer does not wait.
/// </summary>
internal sealed partial class DeathNoticeHold(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    TimeProvider time,
    ILogger<DeathNoticeHold> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The longest wait for this silo's own "dead" entry (a write to the membership table).</summary>
    public static readonly TimeSpan DeadWithin = TimeSpan.FromSeconds(1.5);

    /// <summary>How long the silo keeps answering after its "dead" entry is written: the gossip's round to the other silos.</summary>
    public static readonly TimeSpan GossipGrace = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);

        // The stage of Orleans' own "dead" write and gossip, which must end before the message center (the stage below) stops.
        lifecycle.Subscribe(nameof(DeathNoticeHold), ServiceLifecycleStage.RuntimeInitialize + 1, _ => Task.CompletedTask, HoldAsync);
    }

    /// <summary>The hold itself: Orleans runs it as the silo stops.</summary>
    internal async Task HoldAsync(CancellationToken stopping)
    {
        var self = localSilo.SiloAddress;
        if (!membership.CurrentSnapshot.Members.Values.Any(m => !m.SiloAddress.Equals(self) && m.Status == SiloStatus.Active))
        {
            return;
        }

        var started = time.GetTimestamp();
        try
        {
            while (membership.CurrentSnapshot.GetSiloStatus(self) != SiloStatus.Dead && time.GetElapsedTime(started) < DeadWithin)
            {
                await Task.Delay(Poll, time, stopping);
            }

            await Task.Delay(GossipGrace, time, stopping);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out: stop now.
        }

        LogHeld(time.GetElapsedTime(started).TotalMilliseconds, membership.CurrentSnapshot.GetSiloStatus(self));
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Kept messaging open {Milliseconds:0} ms after leaving, for the cluster to hear it (status here: {Status})")]
    private partial void LogHeld(double milliseconds, SiloStatus status);
}
