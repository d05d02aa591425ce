using Cluster.Contracts.Placement;

namespace Cluster.Grains.Load;

/// <summary>
/// Keeps each silo's latest load report in memory. A silo that stopped reporting for
/// <see cref="StaleAfter"/>, or that membership no longer lists as active, drops out of the board;
/// if this grain moves, silos fill the new board within one report interval, and until it is
/// <see cref="StaleAfter"/> old it says it may be incomplete (<see cref="ClusterLoad.Complete"/>).
/// </summary>
public sealed class ClusterLoadGrain(IClusterMembershipService membership, TimeProvider time) : Grain, IClusterLoadGrain
{
    /// <summary>How long a report counts without a newer one.</summary>
    public static readonly TimeSpan StaleAfter = IClusterLoadGrain.ReportInterval * 4;

    private readonly Dictionary<string, (SiloLoad Report, DateTimeOffset Received)> _reports = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _activated = time.GetUtcNow();

    /// <inheritdoc />
    public Task<ClusterLoad> PublishAsync(SiloLoad report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports[report.Silo] = (report, time.GetUtcNow());
        return GetAsync();
    }

    /// <inheritdoc />
    public Task<ClusterLoad> GetAsync()
    {
        var active = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active)
            {
                active.Add(member.Name);
            }
        }

        var now = time.GetUtcNow();
        var oldest = now - StaleAfter;
        var current = _reports.Values
            .Where(r => r.Received >= oldest && active.Contains(r.Report.Silo))
            .Select(r => r.Report)
            .OrderBy(r => r.Silo, StringComparer.Ordinal);
        return Task.FromResult(new ClusterLoad { Silos = [.. current], Complete = now - _activated >= StaleAfter });
    }
}
