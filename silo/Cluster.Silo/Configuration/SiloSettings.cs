using System.Net;
using System.Net.Sockets;
using Cluster.Client.Security;
using Cluster.Contracts.Devices;
using Cluster.Inference.Devices;
using StackExchange.Redis;

namespace Cluster.Silo.Configuration;

/// <summary>The silo's settings: configuration section <c>Cluster</c> (environment variables <c>Cluster__...</c>).</summary>
public sealed class SiloSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cluster";

    /// <summary>This silo's name; device grains are keyed by it. Defaults to the machine name.</summary>
    public string SiloName { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary><c>Localhost</c> (single machine) or <c>Redis</c> (multi-host).</summary>
    public string Clustering { get; set; } = "Localhost";

    /// <summary>StackExchange.Redis connection string, required with <c>Clustering=Redis</c>.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>The Redis ACL user (Redis 6+); wins over <c>user=</c> in the connection string.</summary>
    public string? RedisUser { get; set; }

    /// <summary>The Redis password (<c>requirepass</c> or the ACL user's); wins over <c>password=</c> in the connection string.</summary>
    public string? RedisPassword { get; set; }

    /// <summary>Reach Redis over TLS, verifying its certificate against <c>Cluster:Tls:CaCertificatePath</c> when set (else the machine's roots).</summary>
    public bool RedisTls { get; set; }

    /// <summary>Orleans cluster id (silos and clients of one deployment share it).</summary>
    public string ClusterId { get; set; } = "inference";

    /// <summary>Orleans service id (stable across deployments).</summary>
    public string ServiceId { get; set; } = "inference";

    /// <summary>Port for silo-to-silo traffic.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>With Localhost clustering: the silo port of the first silo, which later silos on the machine join (defaults to this silo's own).</summary>
    public int? PrimarySiloPort { get; set; }

    /// <summary>Address other silos and clients reach this silo at; defaults to loopback with Localhost clustering, else the first non-loopback IPv4
    /// address.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The model repository folder.</summary>
    public string ModelRepository { get; set; } = "deploy/models";

    /// <summary>
    /// The folder of the pretrained models built into the silo (all-MiniLM-L6-v2 and its text-embedding
    /// pipeline), served beside <see cref="ModelRepository"/>; empty to serve only that repository.
    /// </summary>
    public string BundledModels { get; set; } = Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>The model repository folders to serve: <see cref="ModelRepository"/>, then <see cref="BundledModels"/> when set.</summary>
    public IReadOnlyList<string> ModelRepositories =>
        string.IsNullOrWhiteSpace(BundledModels) ? [ModelRepository] : [ModelRepository, BundledModels];

    /// <summary>
    /// Where the operator's decisions (loaded versions, version policy, traffic splits, replica bounds, drained
    /// silos) are kept as JSON files with Localhost clustering; with Redis they are kept in the cluster's Redis.
    /// </summary>
    public string StateDirectory { get; set; } = ".cluster-state";

    /// <summary>Which devices to serve.</summary>
    public DeviceOptions Devices { get; set; } = new();

    /// <summary>The gRPC and REST edge.</summary>
    public EdgeSettings Edge { get; set; } = new();

    /// <summary>Mutual TLS on the silo and gateway ports (<c>Cluster:Tls</c>); off unless a certificate is configured.</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Lets a silo whose cluster ports are reachable beyond loopback start without <see cref="Tls"/>, for a
    /// network only the cluster can reach; logged as a warning at start.
    /// </summary>
    public bool AllowInsecureClusterPorts { get; set; }

    /// <summary>How fast a silo that stopped answering is declared dead (<c>Cluster:Membership</c>).</summary>
    public MembershipSettings Membership { get; set; } = new();

    /// <summary>Where Prometheus scrapes <c>/metrics</c> (Triton's 8002).</summary>
    public string MetricsAddress { get; set; } = "127.0.0.1:8002";

    /// <summary>An OTLP collector (e.g. <c>http://collector:4317</c>) to export traces and metrics to; none when unset.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Whether Redis clustering is selected.</summary>
    public bool UsesRedis => string.Equals(Clustering, "Redis", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every problem with the settings, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(SiloName) || SiloName.Contains('/', StringComparison.Ordinal))
        {
            errors.Add($"Cluster:SiloName '{SiloName}' must be non-empty and contain no '/'.");
        }

        if (!UsesRedis && !string.Equals(Clustering, "Localhost", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Cluster:Clustering '{Clustering}' is not supported; use 'Localhost' or 'Redis'.");
        }

        if (UsesRedis && string.IsNullOrWhiteSpace(RedisConnectionString))
        {
            errors.Add("Cluster:RedisConnectionString is required when Cluster:Clustering is 'Redis' (e.g. 'redis-host:6379').");
        }

        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("PrimarySiloPort", PrimarySiloPort ?? SiloPort) })
        {
            if (port is < 1 or > 65535)
            {
                errors.Add($"Cluster:{name} {port} is not a TCP port (1-65535).");
            }
        }

        if (SiloPort == GatewayPort)
        {
            errors.Add($"Cluster:SiloPort and Cluster:GatewayPort must differ (both are {SiloPort}).");
        }

        var addressValid = AdvertisedAddress is null || IPAddress.TryParse(AdvertisedAddress, out _);
        if (!addressValid)
        {
            errors.Add($"Cluster:AdvertisedAddress '{AdvertisedAddress}' is not an IP address.");
        }

        if (!Directory.Exists(ModelRepository))
        {
            errors.Add($"Cluster:ModelRepository '{Path.GetFullPath(ModelRepository)}' does not exist; run from the repository root or set " +
                "Cluster__ModelRepository.");
        }

        if (!string.IsNullOrWhiteSpace(BundledModels) && !Directory.Exists(BundledModels))
        {
            errors.Add($"Cluster:BundledModels '{Path.GetFullPath(BundledModels)}' does not exist; build the silo (it writes the bundled models there) or " +
                "set Cluster__BundledModels to an empty value.");
        }

        if (!UsesRedis && (string.IsNullOrWhiteSpace(StateDirectory) || File.Exists(StateDirectory)))
        {
            errors.Add($"Cluster:StateDirectory '{StateDirectory}' must name a folder (it is created when missing).");
        }

        try
        {
            DeviceDiscovery.CudaDeviceIds(Devices.Cuda, "/dev");
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }

        foreach (var profile in Devices.Simulated)
        {
            if (string.IsNullOrWhiteSpace(profile.Profile) || profile.Profile.Contains(':', StringComparison.Ordinal) || profile.Count < 1
                || profile.MemoryMiB < 1
                || profile.FixedLatencyMicroseconds < 0 || profile.PerItemMicroseconds < 0 || profile.Speed <= 0)
            {
                errors.Add($"Cluster:Devices:Simulated entry '{profile.Profile}' needs a Profile name without ':', Count >= 1, MemoryMiB >= 1, latencies >= " +
                    "0 and Speed > 0.");
            }

            if (profile.ComputeCapability is { } capability && !ComputeCapability.TryParse(capability, out _))
            {
                errors.Add($"Cluster:Devices:Simulated entry '{profile.Profile}' ComputeCapability '{capability}' must be written major.minor, such as 8.0.");
            }

            errors.AddRange(profile.Fault.Validate($"Cluster:Devices:Simulated entry '{profile.Profile}' Fault"));
        }

        errors.AddRange(Devices.CudaProvider.Validate(field => $"Cluster:Devices:CudaProvider:{field}"));
        if (Devices.CudaMemoryFallbackMiB < 0)
        {
            errors.Add($"Cluster:Devices:CudaMemoryFallbackMiB {Devices.CudaMemoryFallbackMiB} must be 0 (unknown) or a size in MiB.");
        }

        if (Devices.BatchTimeoutMilliseconds < 1 || Devices.ProbeIntervalMilliseconds < 1)
        {
            errors.Add("Cluster:Devices:BatchTimeoutMilliseconds and Cluster:Devices:ProbeIntervalMilliseconds must be at least 1.");
        }

        errors.AddRange(Edge.Validate());
        errors.AddRange(Tls.Validate("Cluster:Tls"));
        if (addressValid && InsecureBeyondLoopback && !AllowInsecureClusterPorts)
        {
            errors.Add($"Cluster:AdvertisedAddress {ResolveAdvertisedAddress()} is not loopback, so the silo and gateway ports would let anyone on the " +
                "network in: "
                + "set Cluster:Tls:CaCertificatePath and Cluster:Tls:CertificatePath (mutual TLS with the cluster CA; `cluster certs` makes them), "
                + "or Cluster:AllowInsecureClusterPorts=true on a network only the cluster reaches.");
        }

        errors.AddRange(Membership.Validate());
        if (OtlpEndpoint is not null && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            errors.Add($"Cluster:OtlpEndpoint '{OtlpEndpoint}' is not an absolute URI like http://collector:4317.");
        }

        if (!IPEndPoint.TryParse(MetricsAddress, out var metrics) || metrics.Port == 0 || MetricsAddress == Edge.GrpcAddress
            || MetricsAddress == Edge.HttpAddress)
        {
            errors.Add($"Cluster:MetricsAddress '{MetricsAddress}' must be an address:port like 127.0.0.1:8002, apart from the edge's.");
        }

        return errors;
    }

    /// <summary>Whether the silo and gateway ports listen beyond loopback without TLS.</summary>
    public bool InsecureBeyondLoopback => UsesRedis && !Tls.IsEnabled && !IPAddress.IsLoopback(ResolveAdvertisedAddress());

    /// <summary>The StackExchange.Redis options of the cluster's Redis (<see cref="RedisConnectionString"/> with the Redis settings).</summary>
    public ConfigurationOptions RedisOptions() => RedisConnection.Options(RedisConnectionString!, RedisUser, RedisPassword, RedisTls, Tls.CaCertificatePath);

    /// <summary>The address to advertise.</summary>
    public IPAddress ResolveAdvertisedAddress()
    {
        if (AdvertisedAddress is not null)
        {
            return IPAddress.Parse(AdvertisedAddress);
        }

        if (!UsesRedis)
        {
            return IPAddress.Loopback;
        }

        return Dns.GetHostAddresses(Dns.GetHostName())
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)) ?? IPAddress.Loopback;
    }
}
