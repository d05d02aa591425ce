using Cluster.Client.Security;

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
    /// How often a client clustering through Redis reads the gateway list again (Orleans' default: one minute),
    /// so a dead gateway leaves it and a silo that joined since is found sooner (during a rolling restart every
    /// silo it knew may go).
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a grain call waits for its answer (Orleans' default, 30 s). A request to a replica on a silo
    /// declared dead ends earlier, with <see cref="Contracts.Errors.ReplicaLostException"/>; keep this above the longest
    /// time a request may legitimately queue and run.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Mutual TLS to the gateways: the cluster CA and this client's certificate, needed when the silos have
    /// <c>Cluster:Tls</c> on. The CA also verifies a Redis server reached over TLS (<c>ssl=true</c> in
    /// <see cref="RedisConnectionString"/>).
    /// </summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary>Orleans service id.</summary>
    public string ServiceId { get; set; } = "inference";
}
