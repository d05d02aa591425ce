using Cluster.Client;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Messaging;

namespace Cluster.Grains.Tests.Routing;

public sealed class GatewayListHoldTests
{
    [Fact]
    public async Task Wrap_KeepsTheRegisteredList_AndHoldsAStoppingGatewayOutLongerThanItsStop()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IGatewayListProvider, OneSecondList>();
        GatewayListHold.Wrap(services);
        using var provider = services.BuildServiceProvider();

        var list = provider.GetRequiredService<IGatewayListProvider>();
        Assert.IsType<GatewayListHold>(list);
        Assert.Equal([OneSecondList.Gateway], await list.GetGateways());
        Assert.Equal(GatewayListHold.Hold, list.MaxStaleness);
        Assert.Single(services, d => d.ServiceType == typeof(IGatewayListProvider));
    }

    [Fact]
    public void Hold_NeverShortensALongerStaleness()
    {
        var list = new GatewayListHold(new OneSecondList { Staleness = TimeSpan.FromMinutes(1) });
        Assert.Equal(TimeSpan.FromMinutes(1), list.MaxStaleness);
    }

    /// <summary>A list refreshed every second, as a test client's Redis list with <c>GatewayListRefreshPeriod</c> = 1 s.</summary>
    private sealed class OneSecondList : IGatewayListProvider
    {
        public static readonly Uri Gateway = new("gwy.tcp://127.0.0.1:30000/0");

        public TimeSpan Staleness { get; init; } = TimeSpan.FromSeconds(1);

        public TimeSpan MaxStaleness => Staleness;

        [Obsolete("Orleans no longer reads it.")]
        public bool IsUpdatable => true;

        public Task InitializeGatewayListProvider() => Task.CompletedTask;

        public Task<IList<Uri>> GetGateways() => Task.FromResult<IList<Uri>>([Gateway]);
    }
}
