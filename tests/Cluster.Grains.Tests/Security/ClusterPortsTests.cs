using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Cluster.Silo.Configuration;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests.Security;

/// <summary>
/// The silo and gateway ports listen on the advertised address only, and a silo whose address is not
/// loopback refuses to start without mutual TLS unless <c>Cluster:AllowInsecureClusterPorts</c> allows it.
/// </summary>
public sealed class ClusterPortsTests
{
    /// <summary>An address outside loopback; documentation range, so nothing answers on it.</summary>
    private const string FarAddress = "192.0.2.10";

    [Fact]
    public void Silo_BeyondLoopbackWithoutTls_RefusesToStart_NamingTheSettings()
    {
        var error = Assert.Throws<SiloConfigurationException>(() => ClusterHost.Build([], RedisSilo(FarAddress)));

        Assert.Contains("Cluster:AdvertisedAddress 192.0.2.10 is not loopback", error.Message, StringComparison.Ordinal);
        Assert.Contains("Cluster:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Cluster:AllowInsecureClusterPorts=true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_BeyondLoopback_PassWithTheAllowSettingOrWithTls()
    {
        using var certificates = TestCertificates.Create("silo");
        var allowed = Settings(FarAddress);
        allowed.AllowInsecureClusterPorts = true;
        var secured = Settings(FarAddress);
        secured.Tls = certificates.Node("silo");

        Assert.Contains(Settings(FarAddress).Validate(), e => e.Contains("Cluster:AllowInsecureClusterPorts", StringComparison.Ordinal));
        Assert.Empty(allowed.Validate());
        Assert.Empty(secured.Validate());
        Assert.True(allowed.InsecureBeyondLoopback);
        Assert.False(secured.InsecureBeyondLoopback);
    }

    [Fact]
    public void Settings_AnAdvertisedAddressThatIsNoAddress_IsReportedNotThrown()
    {
        Assert.Contains("Cluster:AdvertisedAddress 'silo-0' is not an IP address.", Settings("silo-0").Validate());
    }

    [Fact]
    public async Task SiloPorts_ListenOnTheAdvertisedAddressOnly()
    {
        using var redis = await RedisServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync(["bound"], redis: redis.ConnectionString);

        // Linux routes all of 127.0.0.0/8 to loopback: a port listening on every address answers on 127.0.0.2 too.
        Assert.True(await AcceptsAsync(IPAddress.Loopback, cluster.SiloPorts[0]));
        Assert.False(await AcceptsAsync(IPAddress.Parse("127.0.0.2"), cluster.SiloPorts[0]));
    }

    [Fact]
    public async Task Silo_OnTheMachinesNonLoopbackAddress_StartsWithTheAllowSetting()
    {
        // Where the machine has no address beyond loopback, the allow setting is checked by the settings test above.
        if (NonLoopbackAddress() is not { } address)
        {
            return;
        }

        using var redis = await RedisServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync(
            ["beyond"],
            perSilo: _ => new() { ["Cluster:AdvertisedAddress"] = address.ToString(), ["Cluster:AllowInsecureClusterPorts"] = "true" },
            redis: redis.ConnectionString);

        Assert.Single(await cluster.Connection.Admin.GetDevicesAsync(), d => d.Status.Key == "beyond/cpu:0");
        Assert.True(await AcceptsAsync(address, cluster.SiloPorts[0]));
        Assert.False(await AcceptsAsync(IPAddress.Loopback, cluster.SiloPorts[0]));
    }

    private static SiloSettings Settings(string address) => new()
    {
        Clustering = "Redis",
        RedisConnectionString = "127.0.0.1:6379",
        AdvertisedAddress = address,
        ModelRepository = RepositoryPaths.Models,
        BundledModels = "",
        Devices = { Cuda = "none" },
    };

    private static Dictionary<string, string?> RedisSilo(string address) => new()
    {
        ["Cluster:Clustering"] = "Redis",
        ["Cluster:RedisConnectionString"] = "127.0.0.1:6379",
        ["Cluster:AdvertisedAddress"] = address,
        ["Cluster:ModelRepository"] = RepositoryPaths.Models,
        ["Cluster:BundledModels"] = "",
        ["Cluster:Devices:Cuda"] = "none",
    };

    private static IPAddress? NonLoopbackAddress() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses)
        .Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(address, port);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }
}
