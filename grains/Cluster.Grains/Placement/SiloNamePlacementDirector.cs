using Cluster.Contracts.Errors;
using Orleans.Runtime.Placement;

namespace Cluster.Grains.Placement;

/// <summary>
/// Activates a grain on the active silo whose name is the key's first segment, so a device grain
/// runs in the process that owns its device. Fails with a message naming the silo when it is not in the cluster.
/// </summary>
internal sealed class SiloNamePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var key = target.GrainIdentity.Key.ToString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var siloName = slash > 0 ? key[..slash] : key;
        var compatible = context.GetCompatibleSilos(target);
        var active = new List<string>();
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Active)
            {
                continue;
            }

            if (member.Name == siloName && Array.IndexOf(compatible, member.SiloAddress) >= 0)
            {
                return Task.FromResult(member.SiloAddress);
            }

            active.Add(member.Name);
        }

        throw new DeviceNotFoundException(
            $"Silo '{siloName}' named by grain key '{key}' is not an active member of the cluster; active silos: {string.Join(", ", active.Order())}.");
    }
}
