using Cluster.Client.Security;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests.Security;

/// <summary>A Redis that requires a password (<c>requirepass</c>): silos and clients authenticate to it with <c>Cluster:RedisPassword</c> or the connection
/// string.</summary>
public sealed class RedisAuthTests
{
    private const string Password = "redis-auth-test";

    [Fact]
    public async Task SiloWithThePasswordAndTls_StartsAndServes_AClientFindingItThroughRedisWithBoth()
    {
        using var certificates = TestCertificates.Create("auth-a", "client");
        using var redis = await RedisServer.StartAsync(Password);
        await using var cluster = await InProcessCluster.StartAsync(
            ["auth-a"],
            perSilo: _ =>
                new(certificates.SiloSettings("auth-a")) { ["Cluster:RedisConnectionString"] = $"127.0.0.1:{redis.Port}",
                    ["Cluster:RedisPassword"] = Password },
            redis: redis.ConnectionString,
            configureClient: client => client.Tls = certificates.Node("client"));

        Assert.Single(await cluster.Connection.Admin.GetDevicesAsync(), d => d.Status.Key == "auth-a/cpu:0");
    }

    [Fact]
    public async Task Silo_WithAWrongPassword_FailsToStart_SayingAuthenticationFailed()
    {
        using var redis = await RedisServer.StartAsync(Password);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessCluster.StartAsync(
            ["auth-b"],
            perSilo: _ => new() { ["Cluster:RedisPassword"] = "wrong" },
            redis: redis.ConnectionString));

        Assert.Contains("There was an authentication failure", ExceptionMessages.Of(error), StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", ExceptionMessages.Of(error), StringComparison.Ordinal);
    }

    [Fact]
    public void RedisOptions_SettingsWinOverTheConnectionString_AndTheLogLineNamesNoPassword()
    {
        var options = RedisConnection.Options("redis:6379,user=old,password=old", user: "cluster", password: "s3cret", tls: true);

        Assert.Equal(("cluster", "s3cret", true), (options.User, options.Password, options.Ssl));
        Assert.Equal("ACL user 'cluster' with a password over TLS", RedisConnection.Describe(options));
        Assert.Equal("password without TLS", RedisConnection.Describe(RedisConnection.Options("redis:6379,password=x")));
        Assert.Equal("no authentication without TLS", RedisConnection.Describe(RedisConnection.Options("redis:6379")));
    }
}
