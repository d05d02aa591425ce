using System.Collections.Concurrent;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Grains.Drain;
using Cluster.Grains.Load;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Places model replicas with <see cref="ReplicaPlacementScoring"/> over this silo's copy of the load
/// board, the model's configuration from the registry and the draining silos from the admin grain (both
/// asked at each placement: replicas are placed rarely, and a drain must take effect at once). Replicas
/// placed here in the last few seconds count before the board lists them. When no silo can host the
/// replica (or the board is still empty), it goes to this silo if it is a candidate and not draining, else
/// to the first such candidate by name; the replica's activation then reports why it cannot run. A leaving silo
/// (shutting down: marked with the admin grain, this silo once <see cref="SiloLeaving"/> is set, or no longer active
/// in membership) is never a candidate; with no other silo the placement fails as not started, so callers try again
/// elsewhere rather than start a replica that the stopping silo would refuse anyway.
/// </summary>
internal sealed partial class CapacityPlacementDirector(
    IClusterMembershipService membership,
    ILocalSiloDetails localSilo,
    IGrainFactory grains,
    ClusterLoadView board,
    SiloLeaving leaving,
    TimeProvider time,
    ILogger<CapacityPlacementDirector> logger) : IPlacementDirector
{
    /// <summary>How long a placement made here counts before the board shows it.</summary>
    private static readonly TimeSpan RecentPlacementLifetime = TimeSpan.FromSeconds(3);

    private readonly ConcurrentDictionary<string, (string Silo, DateTimeOffset At)> _recent = new(StringComparer.Ordinal);

    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = ReplicaKey.Parse(target.GrainIdentity.Key.ToString()!);
        var (draining, leavingSilos) = await DrainingAsync();
        var byName = new Dictionary<string, SiloAddress>(StringComparer.Ordinal);
        foreach (var silo in context.GetCompatibleSilos(target))
        {
            if (membership.CurrentSnapshot.Members.TryGetValue(silo, out var member)
                && member.Status == SiloStatus.Active
                && !leavingSilos.Contains(member.Name)
                && !(leaving.IsLeaving && silo.Equals(localSilo.SiloAddress)))
            {
                byName[member.Name] = silo;
            }
        }

        if (byName.Count == 0)
        {
            throw new ReplicaNotStartedException($"Replica {key} was not started: every silo that could host it is shutting down.");
        }

        var model = await ResolveAsync(key);

        // Replicas of one model are often activated together (a load warms them all at once): choosing and
        // recording happen under one lock, so each placement sees the ones made just before it.
        lock (_recent)
        {
            var chosen = (model is null ? null : Choose(key, model, byName, draining)) ?? Fallback(context.LocalSilo, byName, draining);
            _recent[key.ToString()] = (chosen.Name, time.GetUtcNow());
            return chosen.Address;
        }
    }

    private async Task<ModelTarget?> ResolveAsync(ReplicaKey key)
    {
        try
        {
            return await grains.GetGrain<IModelRegistryGrain>(0).ResolveRetryingAsync(key.Model, key.Version);
        }
        catch (InferenceException)
        {
            return null;
        }
    }

    private (string Name, SiloAddress Address)? Choose(ReplicaKey key, ModelTarget model, Dictionary<string, SiloAddress> candidates, HashSet<string> draining)
    {
        var load = board.Current.Silos.Where(s => candidates.ContainsKey(s.Silo)).ToList();
        var region = board.Current.Silos.FirstOrDefault(s => s.Silo == localSilo.Name)?.Metadata.GetValueOrDefault("region", "") ?? "";
        var request = PlacementRequest.ForReplica(key.Model, key.Version, model.Config, model.Version.SizeBytes, region);
        var ranked = ReplicaPlacementScoring.Rank(request, load, draining, RecentPlacements());
        return ranked.Count > 0 ? (ranked[0].Silo, candidates[ranked[0].Silo]) : null;
    }

    private static (string Name, SiloAddress Address) Fallback(SiloAddress local, Dictionary<string, SiloAddress> candidates, HashSet<string> draining)
    {
        var open = candidates.Where(c => !draining.Contains(c.Key)).ToList();
        var pool = open.Count > 0 ? open : [.. candidates];
        if (pool.Count == 0)
        {
            throw new OrleansException("No compatible silo to place a model replica on.");
        }

        var here = pool.Find(c => c.Value.Equals(local));
        return here.Value is not null ? (here.Key, here.Value) : pool.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)).First();
    }

    private Dictionary<string, string> RecentPlacements()
    {
        var oldest = time.GetUtcNow() - RecentPlacementLifetime;
        var recent = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, (silo, at)) in _recent)
        {
            if (at < oldest)
            {
                _recent.TryRemove(key, out _);
            }
            else
            {
                recent[key] = silo;
            }
        }

        return recent;
    }

    /// <summary>The silos draining (leaving ones among them), and the leaving ones alone.</summary>
    private async Task<(HashSet<string> Draining, HashSet<string> Leaving)> DrainingAsync()
    {
        try
        {
            var admin = grains.GetGrain<IClusterAdminGrain>(0);
            var draining = admin.GetDrainingSilosAsync();
            var leavingSilos = admin.GetLeavingSilosAsync();
            return ([.. await draining], [.. await leavingSilos]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogDrainingUnknown(e.Message);
            return ([], []);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placing a model replica without knowing which silos drain: {Error}")]
    private partial void LogDrainingUnknown(string error);
}
