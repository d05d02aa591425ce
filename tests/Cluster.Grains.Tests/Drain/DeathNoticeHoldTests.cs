using System.Collections.Immutable;
using System.Net;
using Cluster.Grains.Drain;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cluster.Grains.Tests.Drain;

/// <summary>How long a stopping silo keeps its messaging open: until membership shows it dead, then the gossip's grace.</summary>
public sealed class DeathNoticeHoldTests
{
    private static readonly SiloAddress Self = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Peer = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    [Fact]
    public void AloneInTheCluster_TheSiloDoesNotWait()
    {
        var (hold, membership, _) = Create();
        membership.Set((Self, SiloStatus.ShuttingDown), (Peer, SiloStatus.Dead));
        Assert.True(hold.HoldAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WithAnActivePeer_TheSiloWaitsUntilItIsDead_ThenForTheGossip()
    {
        var (hold, membership, clock) = Create();
        membership.Set((Self, SiloStatus.ShuttingDown), (Peer, SiloStatus.Active));
        var holding = hold.HoldAsync(CancellationToken.None);

        await AdvanceAsync(clock, TimeSpan.FromMilliseconds(400));
        Assert.False(holding.IsCompleted, "the hold ended before the silo was dead");

        membership.Set((Self, SiloStatus.Dead), (Peer, SiloStatus.Active));
        await AdvanceAsync(clock, DeathNoticeHold.GossipGrace - TimeSpan.FromMilliseconds(100));
        Assert.False(holding.IsCompleted, "the hold ended before the gossip's grace");

        await AdvanceAsync(clock, TimeSpan.FromMilliseconds(200));
        await holding.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ItsDeadEntryNeverSeen_TheSiloStopsWaitingAfterTheLimit()
    {
        var (hold, membership, clock) = Create();
        membership.Set((Self, SiloStatus.ShuttingDown), (Peer, SiloStatus.Active));
        var holding = hold.HoldAsync(CancellationToken.None);

        await AdvanceAsync(clock, DeathNoticeHold.DeadWithin - TimeSpan.FromMilliseconds(100));
        Assert.False(holding.IsCompleted, "the hold ended before its limit");

        await AdvanceAsync(clock, TimeSpan.FromMilliseconds(200) + DeathNoticeHold.GossipGrace);
        await holding.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TheHostsStopTimeoutCancels_TheHoldEndsAtOnce()
    {
        var (hold, membership, _) = Create();
        membership.Set((Self, SiloStatus.ShuttingDown), (Peer, SiloStatus.Active));
        using var stopping = new CancellationTokenSource();
        var holding = hold.HoldAsync(stopping.Token);
        await stopping.CancelAsync();
        await holding.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static (DeathNoticeHold Hold, Membership Membership, FakeTimeProvider Clock) Create()
    {
        var membership = new Membership();
        var clock = new FakeTimeProvider();
        return (new DeathNoticeHold(membership, new LocalSilo(), clock, NullLogger<DeathNoticeHold>.Instance), membership, clock);
    }

    /// <summary>Moves the clock in polling steps, letting each timer's continuation run before the next.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider clock, TimeSpan by)
    {
        var step = TimeSpan.FromMilliseconds(10);
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            clock.Advance(step);
            await Task.Delay(1);
        }
    }

    private sealed class Membership : IClusterMembershipService
    {
        private long _version;

        public ClusterMembershipSnapshot CurrentSnapshot { get; private set; } = null!;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public void Set(params (SiloAddress Silo, SiloStatus Status)[] members) => CurrentSnapshot = new ClusterMembershipSnapshot(
            members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())),
            new MembershipVersion(++_version));

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }

    private sealed class LocalSilo : ILocalSiloDetails
    {
        public string Name => "self";

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress => Self;

        public SiloAddress GatewayAddress => Self;
    }
}
