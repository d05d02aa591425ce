using System.Globalization;
using Cluster.Tests.Shared;

namespace Cluster.Silo.Tests;

/// <summary>
/// The silo executable with certificates from <c>cluster certs</c> and a Redis that requires a password, as a
/// user deploys it beyond loopback: the start log states both modes, and the console is served only with a
/// cluster-CA certificate.
/// </summary>
public sealed class ClusterSecurityProcessTests : IDisposable
{
    private const string RedisPassword = "process-redis-secret";

    private readonly string _certificates = Directory.CreateTempSubdirectory("cluster-certs-").FullName;

    public void Dispose() => Directory.Delete(_certificates, recursive: true);

    [Fact]
    public async Task SiloWithMutualTlsAndRedisPassword_LogsBothModes_AndServesOnlyAConsoleWithAClusterCertificate()
    {
        foreach (var command in new[] { new[] { "certs", "ca", "--out", _certificates }, ["certs", "node", "--name", "silo", "--ca", _certificates],
            ["certs", "node", "--name", "ops", "--ca", _certificates] })
        {
            var (exit, output) = await ChildProcess.RunCliAsync(command);
            Assert.True(exit == 0, output);
        }

        using var redis = await RedisServer.StartAsync(RedisPassword);
        var ports = FreePorts.Take(5);
        using var silo = ChildProcess.Start(Path.Combine("silo", "Cluster.Silo"), "Cluster.Silo", [], new Dictionary<string, string>
        {
            ["Cluster__SiloName"] = "secured",
            ["Cluster__Clustering"] = "Redis",
            ["Cluster__RedisConnectionString"] = $"127.0.0.1:{redis.Port}",
            ["Cluster__RedisPassword"] = RedisPassword,
            ["Cluster__AdvertisedAddress"] = "127.0.0.1",
            ["Cluster__Tls__CaCertificatePath"] = Path.Combine(_certificates, "ca.crt"),
            ["Cluster__Tls__CertificatePath"] = Path.Combine(_certificates, "silo.crt"),
            ["Cluster__Tls__KeyPath"] = Path.Combine(_certificates, "silo.key"),
            ["Cluster__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Cluster__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Cluster__Devices__Cuda"] = "none",
            ["Cluster__Edge__GrpcAddress"] = $"127.0.0.1:{ports[2]}",
            ["Cluster__Edge__HttpAddress"] = $"127.0.0.1:{ports[3]}",
            ["Cluster__MetricsAddress"] = $"127.0.0.1:{ports[4]}",
        });
        await silo.WaitForOutputAsync("Silo secured ready: Redis clustering", TimeSpan.FromSeconds(60));

        Assert.Contains($"Cluster ports: mutual TLS on 127.0.0.1 silo port {ports[0]} and gateway port {ports[1]}", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Redis authentication: password without TLS", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(RedisPassword, silo.Output, StringComparison.Ordinal);
        var gateway = new[] { "--gateway", $"127.0.0.1:{ports[1]}" };
        string[] tlsArguments =
            ["--tls-ca", Path.Combine(_certificates, "ca.crt"), "--tls-cert", Path.Combine(_certificates, "ops.crt"), "--tls-key",
                Path.Combine(_certificates, "ops.key")];
        var (servedExit, served) = await ChildProcess.RunCliAsync(["status", .. gateway, .. tlsArguments]);
        Assert.True(servedExit == 0, served);
        Assert.Contains("secured", served, StringComparison.Ordinal);
        var (refusedExit, refused) = await ChildProcess.RunCliAsync(["status", .. gateway]);
        Assert.True(refusedExit == 3, refused);
        Assert.Contains("Cannot connect to the cluster", refused, StringComparison.Ordinal);
    }
}
