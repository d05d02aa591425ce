namespace Cluster.Client;

/// <summary>How a client reaches the cluster: a silo gateway on a known address, or the silos listed in Redis.</summary>
public sealed class ClusterConnectionOptions
{
    /// <summary>Gateway endpoints <c>host:port</c> (used when <see cref="RedisConnectionString"/> is not set).</summary>
    public List<string> Gateways { get; set; } = ["127.0.0.1:30000"];

    /// <summary>StackExchange.Redis connection string of the cluster's membership table.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Orleans cluster id.</summary>
    public string ClusterId { get; set; } = "inference";

    /// <summary>How long to keep trying to reach a gateway before giving up.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a client clustering through Redis reads the gateway list again, so it finds silos that joined
    /// since (during a rolling restart every silo it knew may go). Orleans' default is one minute.
    /// </summary>
    public TimeSpan GatewayListRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Orleans service id.</summary>
    public string ServiceId { get; set; } = "inference";
}
