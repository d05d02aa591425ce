using Cluster.Client.Security;
using Cluster.Silo.Configuration;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Logs, before the silo joins the cluster, how its silo and gateway ports are protected and how it
/// authenticates to Redis (never the password), so a failed join is read against them.
/// </summary>
internal sealed partial class SecurityReport(SiloSettings settings, ILogger<SecurityReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = settings.ResolveAdvertisedAddress().ToString();
        if (settings.Tls.IsEnabled)
        {
            LogMutualTls(address, settings.SiloPort, settings.GatewayPort, settings.Tls.CaCertificatePath!);
        }
        else if (settings.InsecureBeyondLoopback)
        {
            LogInsecureAllowed(address, settings.SiloPort, settings.GatewayPort);
        }
        else
        {
            LogLoopbackOnly(settings.SiloPort, settings.GatewayPort);
        }

        if (settings.UsesRedis)
        {
            LogRedis(RedisConnection.Describe(settings.RedisOptions()));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Cluster ports: mutual TLS on {Address} silo port {SiloPort} and gateway port {GatewayPort}, peers trusted only when issued by the CA in " +
            "{CaPath}")]
    private partial void LogMutualTls(string address, int siloPort, int gatewayPort, string caPath);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Cluster ports: no TLS and no authentication on {Address} silo port {SiloPort} and gateway port {GatewayPort} beyond loopback, allowed by " +
            "Cluster:AllowInsecureClusterPorts")]
    private partial void LogInsecureAllowed(string address, int siloPort, int gatewayPort);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Cluster ports: no TLS; silo port {SiloPort} and gateway port {GatewayPort} listen on loopback only")]
    private partial void LogLoopbackOnly(int siloPort, int gatewayPort);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis authentication: {Mode}")]
    private partial void LogRedis(string mode);
}
