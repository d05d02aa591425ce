using Cluster.Contracts.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Hands placement to the cluster's default director with the draining silos taken out of the
/// candidates. The draining set is asked of the admin grain on every placement (replicas are placed
/// rarely, and a drain must take effect at once); when every candidate is draining, or the set cannot
/// be read, all candidates stay so the model can still be served.
/// </summary>
internal sealed partial class DrainAwarePlacementDirector(
    IServiceProvider services,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILogger<DrainAwarePlacementDirector> logger) : IPlacementDirector
{
    private readonly PlacementStrategy _defaultStrategy = services.GetRequiredService<PlacementStrategy>();
    private IPlacementDirector? _defaultDirector;

    public async Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        _defaultDirector ??= services.GetRequiredKeyedService<IPlacementDirector>(_defaultStrategy.GetType());
        var draining = await DrainingAsync();
        var candidates = context.GetCompatibleSilos(target);
        var kept = draining.Count == 0
            ? candidates
            : Array.FindAll(candidates, s => !membership.CurrentSnapshot.Members.TryGetValue(s, out var m) || !draining.Contains(m.Name));
        return await _defaultDirector.OnAddActivation(_defaultStrategy, target, kept.Length > 0 ? new FilteredContext(context, kept) : context);
    }

    private async Task<HashSet<string>> DrainingAsync()
    {
        try
        {
            return [.. await grains.GetGrain<IClusterAdminGrain>(0).GetDrainingSilosAsync()];
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogDrainingUnknown(e.Message);
            return [];
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placing a model replica without knowing which silos drain: {Error}")]
    private partial void LogDrainingUnknown(string error);

    /// <summary>The placement context with fewer compatible silos.</summary>
    private sealed class FilteredContext(IPlacementContext inner, SiloAddress[] silos) : IPlacementContext
    {
        public SiloAddress LocalSilo => inner.LocalSilo;

        public SiloStatus LocalSiloStatus => inner.LocalSiloStatus;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => silos;

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            inner.GetCompatibleSilosWithVersions(target).ToDictionary(p => p.Key, p => Array.FindAll(p.Value, s => Array.IndexOf(silos, s) >= 0));
    }
}
