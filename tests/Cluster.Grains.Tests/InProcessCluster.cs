using System.Globalization;
using Cluster.Client;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Hosting;

namespace Cluster.Grains.Tests;

/// <summary>
/// Several real silos in this process, each built by the silo's own <see cref="ClusterHost"/> on free
/// ports, plus a client connected through their gateways (or through Redis).
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly List<IHost> _silos = [];

    private readonly bool _ownsStateDirectory;

    private InProcessCluster(string modelRepository, string stateDirectory, bool ownsStateDirectory, string clusterId)
    {
        ModelRepository = modelRepository;
        StateDirectory = stateDirectory;
        _ownsStateDirectory = ownsStateDirectory;
        ClusterId = clusterId;
    }

    /// <summary>The silo hosts, in start order.</summary>
    public IReadOnlyList<IHost> Silos => _silos;

    /// <summary>The silos' model repository (a temporary copy of deploy/models).</summary>
    public string ModelRepository { get; }

    /// <summary>Where the silos keep the operator's decisions (a temporary folder unless one was given).</summary>
    public string StateDirectory { get; }

    /// <summary>The Orleans cluster id.</summary>
    public string ClusterId { get; }

    /// <summary>Each silo's gateway, <c>127.0.0.1:port</c>.</summary>
    public List<string> Gateways { get; } = [];

    /// <summary>Each silo's gRPC edge, as a URL.</summary>
    public List<string> GrpcAddresses { get; } = [];

    /// <summary>Each silo's REST edge, as a URL.</summary>
    public List<string> HttpAddresses { get; } = [];

    /// <summary>Each silo's Prometheus endpoint, as a URL.</summary>
    public List<string> MetricsAddresses { get; } = [];

    /// <summary>The client connection.</summary>
    public ClusterConnection Connection { get; private set; } = null!;

    /// <summary>The client's inference API.</summary>
    public InferenceClient Client => Connection.Inference;

    /// <summary>
    /// Starts one silo per name. <paramref name="perSilo"/> adds settings for a silo (by index);
    /// <paramref name="redis"/> switches clustering to Redis.
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(
        string[] siloNames,
        Func<int, Dictionary<string, string?>>? perSilo = null,
        string? redis = null,
        Action<string>? prepareRepository = null,
        string? stateDirectory = null)
    {
        var repository = RepositoryPaths.CopyModelsToTemp();
        prepareRepository?.Invoke(repository);
        var clusterId = "test-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = new InProcessCluster(repository, stateDirectory ?? Directory.CreateTempSubdirectory("cluster-state-").FullName, stateDirectory is null, clusterId);
        var ports = FreePorts.Take(siloNames.Length * 5);
        var gateways = cluster.Gateways;
        for (var i = 0; i < siloNames.Length; i++)
        {
            var settings = new Dictionary<string, string?>
            {
                ["Cluster:SiloName"] = siloNames[i],
                ["Cluster:ClusterId"] = clusterId,
                ["Cluster:SiloPort"] = Port(ports[5 * i]),
                ["Cluster:GatewayPort"] = Port(ports[(5 * i) + 1]),
                ["Cluster:Edge:GrpcAddress"] = $"127.0.0.1:{ports[(5 * i) + 2]}",
                ["Cluster:Edge:HttpAddress"] = $"127.0.0.1:{ports[(5 * i) + 3]}",
                ["Cluster:MetricsAddress"] = $"127.0.0.1:{ports[(5 * i) + 4]}",
                ["Cluster:PrimarySiloPort"] = Port(ports[0]),
                ["Cluster:ModelRepository"] = repository,
                ["Cluster:BundledModels"] = "",
                ["Cluster:StateDirectory"] = cluster.StateDirectory,
                ["Cluster:Devices:Cuda"] = "none",
                ["Cluster:Clustering"] = redis is null ? "Localhost" : "Redis",
                ["Cluster:RedisConnectionString"] = redis,
                ["Cluster:AdvertisedAddress"] = "127.0.0.1",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in perSilo?.Invoke(i) ?? [])
            {
                settings[key] = value;
            }

            var silo = ClusterHost.Build([], settings);
            await silo.StartAsync();
            cluster._silos.Add(silo);
            gateways.Add($"127.0.0.1:{ports[(5 * i) + 1]}");
            cluster.GrpcAddresses.Add($"http://127.0.0.1:{ports[(5 * i) + 2]}");
            cluster.HttpAddresses.Add($"http://127.0.0.1:{ports[(5 * i) + 3]}");
            cluster.MetricsAddresses.Add($"http://127.0.0.1:{ports[(5 * i) + 4]}");
        }

        cluster.Connection = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
        {
            ClusterId = clusterId,
            Gateways = gateways,
            RedisConnectionString = redis,
        });
        return cluster;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Connection is not null)
        {
            await Connection.DisposeAsync();
        }

        for (var i = _silos.Count - 1; i >= 0; i--)
        {
            await _silos[i].StopAsync();
            _silos[i].Dispose();
        }

        Directory.Delete(ModelRepository, recursive: true);
        if (_ownsStateDirectory && Directory.Exists(StateDirectory))
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
