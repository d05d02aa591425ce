using Cluster.Contracts.Load;


namespace Cluster.Grains.Load;

/// <summary>
/// Keeps each silo's latest load report in memory. A silo that stopped reporting for
/// <see cref="StaleAfter"/>, or that membership no longer lists as active, drops out of the board;
/// if this grain moves, silos fill the new board within one report interval, and until it is
/// <see cref="StaleAfter"/> old it says it may be incomplete (<see cref="ClusterLoad.Complete"/>). The board also
/// names the silos that were voted dead (by the others' missed probes), as opposed to silos that left gracefully
/// (which answer or hand on their requests): their replicas' in-flight requests will get no answer.
/// </summary>
public sealed class ClusterLoadGrain(IClusterMembershipService membership, TimeProvider time, IServiceProvider services) : Grain, IClusterLoadGrain
{
    /// <summary>How long a report counts without a newer one.</summary>
    public static readonly TimeSpan StaleAfter = IClusterLoadGrain.ReportInterval * 4;

    /// <summary>How often the membership table may be read to classify new dead silos, when a reading failed.</summary>
    private static readonly TimeSpan ClassifyRetry = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, (SiloLoad Report, DateTimeOffset Received)> _reports = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _activated = time.GetUtcNow();

    /// <summary>Silos seen shutting down or stopping: leaving gracefully, their end loses no request.</summary>
    private readonly HashSet<string> _leaving = new(StringComparer.Ordinal);

    /// <summary>Each dead silo seen: true when other silos voted it dead, false when it left by itself.</summary>
    private readonly Dictionary<SiloAddress, bool> _votedDead = [];

    private readonly IMembershipTable? _table = services.GetService(typeof(IMembershipTable)) as IMembershipTable;

    private DateTimeOffset _nextClassify = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public Task<ClusterLoad> PublishAsync(SiloLoad report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports[report.Silo] = (report, time.GetUtcNow());
        return GetAsync();
    }

    /// <inheritdoc />
    public async Task<ClusterLoad> GetAsync()
    {
        var active = new HashSet<string>(StringComparer.Ordinal);
        var deadMembers = new List<ClusterMember>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active)
            {
                active.Add(member.Name);
            }
            else if (member.Status == SiloStatus.Dead)
            {
                deadMembers.Add(member);
            }
            else if (member.Status is SiloStatus.ShuttingDown or SiloStatus.Stopping)
            {
                _leaving.Add(member.Name);
            }
        }

        _leaving.ExceptWith(active);
        if (deadMembers.Exists(m => !_votedDead.ContainsKey(m.SiloAddress)))
        {
            await ClassifyDeadAsync();
        }

        var dead = deadMembers.Where(m => _votedDead.GetValueOrDefault(m.SiloAddress)).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        dead.ExceptWith(active);
        dead.ExceptWith(_leaving);

        var now = time.GetUtcNow();
        var oldest = now - StaleAfter;
        var current = _reports.Values
            .Where(r => r.Received >= oldest && active.Contains(r.Report.Silo))
            .Select(r => r.Report)
            .OrderBy(r => r.Silo, StringComparer.Ordinal);
        return new ClusterLoad { Silos = [.. current], Complete = now - _activated >= StaleAfter, DeadSilos = [.. dead.Order(StringComparer.Ordinal)] };
    }

    /// <summary>Reads the membership table once: a dead entry with suspicion votes was voted dead; one without left by itself.</summary>
    private async Task ClassifyDeadAsync()
    {
        var now = time.GetUtcNow();
        if (_table is null || now < _nextClassify)
        {
            return;
        }

        _nextClassify = now + ClassifyRetry;
        try
        {
            using var timeout = new CancellationTokenSource(ClassifyRetry);
            foreach (var (entry, _) in (await _table.ReadAllAsync(timeout.Token)).Members)
            {
                if (entry.Status == SiloStatus.Dead)
                {
                    _votedDead[entry.SiloAddress] = entry.SuspectTimes is { Count: > 0 };
                }
            }

            _nextClassify = now;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The membership store is down; the deaths stay unclassified (not reported) until it answers.
        }
    }
}
