using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Contracts.Admin;

namespace Cluster.Grains.Tests;

/// <summary>Two silos with mutual TLS between them (<c>Cluster:SiloTls</c>), from a self-signed certificate.</summary>
public sealed class SiloTlsTests : IAsyncLifetime
{
    private const string Password = "silo-tls-test";
    private readonly string _certificatePath = Path.Combine(Path.GetTempPath(), $"silo-tls-{Guid.NewGuid():N}.pfx");
    private X509Certificate2 _certificate = null!;
    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=cluster-silo", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("cluster-silo");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllBytesAsync(_certificatePath, selfSigned.Export(X509ContentType.Pkcs12, Password));
        _certificate = X509CertificateLoader.LoadPkcs12FromFile(_certificatePath, Password);
        _cluster = await InProcessCluster.StartAsync(
            ["tls-a", "tls-b"],
            perSilo: _ => new() { ["Cluster:SiloTls:CertificatePath"] = _certificatePath, ["Cluster:SiloTls:CertificatePassword"] = Password });
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _certificate.Dispose();
        File.Delete(_certificatePath);
    }

    [Fact]
    public async Task TwoSilos_TalkOverTls_AndServeTheClusterView()
    {
        var devices = await _cluster.Connection.Grains.GetGrain<IClusterAdminGrain>(0).GetDevicesAsync();

        Assert.Contains(devices, d => d.Status.Key == "tls-a/cpu:0");
        Assert.Contains(devices, d => d.Status.Key == "tls-b/cpu:0");
    }

    [Fact]
    public async Task SiloPort_AnswersATlsHandshakeWithTheConfiguredCertificate()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", _cluster.SiloPorts[1]);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);

        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "cluster-silo",
            ClientCertificates = [_certificate],
        });

        Assert.Equal(_certificate.Thumbprint, new X509Certificate2(tls.RemoteCertificate!).Thumbprint);
    }
}
