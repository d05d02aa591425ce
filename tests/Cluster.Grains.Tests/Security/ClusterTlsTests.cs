using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Cluster.Client;
using Cluster.Client.Security;

namespace Cluster.Grains.Tests.Security;

/// <summary>
/// Two silos with mutual TLS (<c>Cluster:Tls</c>) on their silo and gateway ports, each with its own
/// certificate from the cluster CA: they form a cluster, serve a client with a cluster-CA certificate,
/// and refuse a client without one or with one from another CA.
/// </summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private readonly TestCertificates _certificates = TestCertificates.Create("silo-a", "silo-b", "client");
    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        string[] silos = ["silo-a", "silo-b"];
        _cluster = await InProcessCluster.StartAsync(
            silos,
            perSilo: i => _certificates.SiloSettings(silos[i]),
            configureClient: client => client.Tls = _certificates.Node("client"));
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task TwoSilos_WithClusterCaCertificates_FormACluster_AndServeAClientWithOne()
    {
        var devices = await _cluster.Connection.Admin.GetDevicesAsync();

        Assert.Contains(devices, d => d.Status.Key == "silo-a/cpu:0");
        Assert.Contains(devices, d => d.Status.Key == "silo-b/cpu:0");
    }

    [Fact]
    public async Task GatewayClient_WithoutCertificate_IsRefused()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(new ClusterTlsOptions()));
    }

    [Fact]
    public async Task GatewayClient_WithCertificateFromAnotherCa_IsRefused()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(_certificates.Stranger()));
    }

    [Fact]
    public async Task GatewayClient_WithClusterCaCertificate_IsServed()
    {
        await using var connection = await ConnectAsync(_certificates.Node("client"));

        var status = await connection.Admin.GetDevicesAsync();

        Assert.Equal(2, status.Select(d => d.Status.Key.Split('/')[0]).Distinct().Count());
    }

    [Fact]
    public async Task SiloPort_PresentsACertificateIssuedByTheClusterCa()
    {
        using var credentials = _certificates.Node("client").Load("Tls");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _cluster.SiloPorts[1]);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "silo-b",
            ClientCertificates = [credentials.Certificate],
        });

        using var presented = new X509Certificate2(tls.RemoteCertificate!);
        Assert.Equal("CN=silo-b", presented.Subject);
        Assert.True(ClusterCertificateTrust.IsIssuedBy(presented, credentials.Authority));
    }

    private Task<ClusterConnection> ConnectAsync(ClusterTlsOptions tls) => ClusterConnection.ConnectAsync(new ClusterConnectionOptions
    {
        ClusterId = _cluster.ClusterId,
        Gateways = _cluster.Gateways,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        Tls = tls,
    });
}
