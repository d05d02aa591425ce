using Cluster.Client;
using Cluster.Client.Security;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests.Security;

/// <summary>
/// A Redis that accepts TLS only (<c>--tls-port</c>, <c>--port 0</c>) with a certificate from the cluster CA, and a
/// password: silos connect with <c>Cluster:RedisTls</c>, clients with <c>ssl=true</c>, both trusting the cluster CA.
/// </summary>
public sealed class RedisTlsTests
{
    private const string Password = "redis-tls-test";

    [Fact]
    public async Task SilosAndAClientTrustingTheClusterCa_ClusterThroughATlsRedis_AndClientsWithoutItOrThePassword_AreRefused()
    {
        using var certificates = TestCertificates.Create("tls-a", "tls-b", "client");
        using var redis = await RedisServer.StartAsync(Password, certificates.RedisServer());
        string[] silos = ["tls-a", "tls-b"];
        await using var cluster = await InProcessCluster.StartAsync(
            silos,
            perSilo: i => new(certificates.SiloSettings(silos[i]))
            {
                ["Cluster:RedisConnectionString"] = $"127.0.0.1:{redis.Port}",
                ["Cluster:RedisPassword"] = Password,
                ["Cluster:RedisTls"] = "true",
            },
            redis: redis.ConnectionString,
            configureClient: client => client.Tls = certificates.Node("client"));

        var devices = await cluster.Connection.Admin.GetDevicesAsync();
        Assert.Contains(devices, d => d.Status.Key == "tls-a/cpu:0");
        Assert.Contains(devices, d => d.Status.Key == "tls-b/cpu:0");

        var untrusted = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(cluster, redis.ConnectionString, tls: null));
        const string untrustedRoot = "The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot";
        Assert.Contains(untrustedRoot, ExceptionMessages.Of(untrusted), StringComparison.Ordinal);
        var strangersCa = new ClusterTlsOptions { CaCertificatePath = Path.Combine(certificates.Folder, "other", ClusterCertificates.CaCertificateFile) };
        var stranger = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(cluster, redis.ConnectionString, strangersCa));
        Assert.Contains("rejected by the provided RemoteCertificateValidationCallback", ExceptionMessages.Of(stranger), StringComparison.Ordinal);

        var wrongPassword = redis.ConnectionString.Replace(Password, "wrong", StringComparison.Ordinal);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(cluster, wrongPassword, certificates.Node("client")));
        Assert.Contains("WRONGPASS", ExceptionMessages.Of(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_WithoutRedisTls_AgainstATlsRedis_FailsToStart_SayingItCannotConnect()
    {
        using var certificates = TestCertificates.Create("plain");
        using var redis = await RedisServer.StartAsync(Password, certificates.RedisServer());

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessCluster.StartAsync(
            ["plain"],
            perSilo: _ => new() { ["Cluster:RedisConnectionString"] = $"127.0.0.1:{redis.Port},password={Password}" },
            redis: redis.ConnectionString));

        Assert.Contains("It was not possible to connect to the redis server", ExceptionMessages.Of(error), StringComparison.Ordinal);
    }

    private static async Task ConnectAsync(InProcessCluster cluster, string redis, ClusterTlsOptions? tls)
    {
        var options = new ClusterConnectionOptions { ClusterId = cluster.ClusterId, RedisConnectionString = redis, Tls = tls ?? new() };
        await using var connection = await ClusterConnection.ConnectAsync(options);
    }
}
