using Microsoft.Extensions.DependencyInjection;
using Orleans.Messaging;

namespace Cluster.Client;

/// <summary>
/// Wraps the client's gateway list so that a gateway that said it is stopping (or whose connection failed) stays
/// out of use for at least <see cref="Hold"/>. Orleans keeps such a gateway out only for the list's staleness, which
/// Redis clustering sets to the list's refresh period: with a refresh shorter than the silo's stop, the next reading,
/// which still lists the silo as active until its drain and gateway notice are over, put it back, and a request sent
/// through it as it closed got no answer.
/// </summary>
public sealed class GatewayListHold(IGatewayListProvider inner) : IGatewayListProvider
{
    /// <summary>Longer than a silo's drain and gateway notice (4.5 s at most) plus a reading of the membership table.</summary>
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(10);

    public TimeSpan MaxStaleness => inner.MaxStaleness > Hold ? inner.MaxStaleness : Hold;

    [Obsolete("Orleans no longer reads it: every gateway list is refreshed.")]
    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => inner.InitializeGatewayListProvider();

    public Task<IList<Uri>> GetGateways() => inner.GetGateways();

    /// <summary>Replaces the registered gateway list with itself around it.</summary>
    public static void Wrap(IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IGatewayListProvider))
            ?? throw new InvalidOperationException("No gateway list is registered.");
        services.Remove(registered);
        services.AddSingleton<IGatewayListProvider>(sp => new GatewayListHold((IGatewayListProvider)(
            registered.ImplementationInstance
            ?? registered.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!))));
    }
}
