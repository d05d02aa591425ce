using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Client.Protocol;
using Cluster.Grains.Tests;
using Grpc.Net.Client;

namespace Cluster.Edge.Tests;

/// <summary>The edge with a certificate configured serves gRPC and REST over TLS only.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task CertificateConfigured_GrpcAndRestServeOverTls()
    {
        using var certificate = SelfSigned();
        var file = Path.Combine(Directory.CreateTempSubdirectory("edge-tls-").FullName, "edge.pfx");
        await File.WriteAllBytesAsync(file, certificate.Export(X509ContentType.Pkcs12, "secret"));
        await using var cluster = await InProcessCluster.StartAsync(["tls"], perSilo: _ => new()
        {
            ["Cluster:Edge:CertificatePath"] = file,
            ["Cluster:Edge:CertificatePassword"] = "secret",
        });

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint };
        using var channel =
            GrpcChannel.ForAddress(cluster.GrpcAddresses[0].Replace("http://", "https://", StringComparison.Ordinal),
                new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerLiveAsync(new ServerLiveRequest())).Live);

        using var http = new HttpClient(handler, disposeHandler: false);
        var live = await http.GetAsync(cluster.HttpAddresses[0].Replace("http://", "https://", StringComparison.Ordinal) + "/v2/health/live");
        Assert.True(live.IsSuccessStatusCode);

        using var plain = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(cluster.HttpAddresses[0] + "/v2/health/live"));
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
