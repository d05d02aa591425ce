using Orleans.Configuration;

namespace Cluster.Silo.Configuration;

/// <summary>
/// How fast the silos declare a silo that stopped answering dead: configuration section <c>Cluster:Membership</c>,
/// applied to Orleans' <see cref="ClusterMembershipOptions"/>. Every silo probes the others every
/// <see cref="ProbeTimeoutMilliseconds"/> (Orleans adapts the period and timeout to the answers it sees, between
/// half and four times this); after <see cref="NumMissedProbesLimit"/> missed probes it votes the silo dead, and
/// <see cref="NumVotesForDeathDeclaration"/> votes younger than <see cref="DeathVoteExpirationSeconds"/> declare it
/// dead. The defaults declare a killed silo dead in about 3 to 5 s (Orleans' own: 15 to 20 s); a silo that
/// cannot answer probes for that long (a long GC pause, a starved CPU) is declared dead too and restarts.
/// </summary>
public sealed class MembershipSettings
{
    /// <summary>Initial probe timeout and period (Orleans' default: 5,000 ms).</summary>
    public int ProbeTimeoutMilliseconds { get; set; } = 1000;

    /// <summary>Missed probes after which a silo votes another dead (Orleans' default: 3).</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>Votes that declare a silo dead, at most the silos that can vote (Orleans' default: 2).</summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How long a vote counts (Orleans' default: 120 s).</summary>
    public int DeathVoteExpirationSeconds { get; set; } = 30;

    /// <summary>How often each silo rereads the membership table besides gossip (Orleans' default: 60 s).</summary>
    public int TableRefreshSeconds { get; set; } = 10;

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (ProbeTimeoutMilliseconds < 100)
        {
            yield return $"Cluster:Membership:ProbeTimeoutMilliseconds {ProbeTimeoutMilliseconds} must be at least 100.";
        }

        if (NumMissedProbesLimit < 1 || NumVotesForDeathDeclaration < 1)
        {
            yield return "Cluster:Membership:NumMissedProbesLimit and Cluster:Membership:NumVotesForDeathDeclaration must be at least 1.";
        }

        if (DeathVoteExpirationSeconds * 1000L <= (long)ProbeTimeoutMilliseconds * NumMissedProbesLimit)
        {
            yield return $"Cluster:Membership:DeathVoteExpirationSeconds {DeathVoteExpirationSeconds} must exceed the time to miss NumMissedProbesLimit " +
                $"probes ({ProbeTimeoutMilliseconds * (long)NumMissedProbesLimit} ms), or votes expire before they add up.";
        }

        if (TableRefreshSeconds < 1)
        {
            yield return $"Cluster:Membership:TableRefreshSeconds {TableRefreshSeconds} must be at least 1.";
        }
    }

    /// <summary>Writes the settings into Orleans' options.</summary>
    public void Apply(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ProbeTimeout = TimeSpan.FromMilliseconds(ProbeTimeoutMilliseconds);
        options.NumMissedProbesLimit = NumMissedProbesLimit;
        options.NumVotesForDeathDeclaration = NumVotesForDeathDeclaration;
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(DeathVoteExpirationSeconds);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(TableRefreshSeconds);
    }
}
