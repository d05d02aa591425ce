using Cluster.Contracts.Models;

namespace Cluster.Contracts.Grains;

/// <summary>
/// Registry reads that survive the registry's grain moving: when the silo holding it stops while a read is in
/// flight, Orleans fails the call (the silo became unavailable, or the message was rejected); a read changes
/// nothing, so it runs again, up to three times, on the registry's new activation.
/// </summary>
public static class ModelRegistryReads
{
    private const int Attempts = 3;

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);

    /// <summary><see cref="IModelRegistryGrain.ResolveAsync"/>, sent again when the registry's silo went away during the call.</summary>
    public static async Task<ModelTarget> ResolveRetryingAsync(this IModelRegistryGrain registry, string model, long? version)
    {
        ArgumentNullException.ThrowIfNull(registry);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await registry.ResolveAsync(model, version);
            }
            catch (Exception e) when (attempt < Attempts && e is SiloUnavailableException or OrleansMessageRejectionException)
            {
                await Task.Delay(Pause);
            }
        }
    }
}
