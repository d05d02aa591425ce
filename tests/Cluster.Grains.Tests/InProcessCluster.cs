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

    private readonly string? _redis;

    private int? _primarySiloPort;

    private InProcessCluster(string modelRepository, string stateDirectory, bool ownsStateDirectory, string clusterId, string? redis)
    {
        _redis = redis;
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

    /// <summary>Each silo's silo-to-silo port.</summary>
    public List<int> SiloPorts { get; } = [];

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
    /// <paramref name="redis"/> switches clustering to Redis; <paramref name="configureClient"/> adjusts the client's options.
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(
        string[] siloNames,
        Func<int, Dictionary<string, string?>>? perSilo = null,
        string? redis = null,
        Action<string>? prepareRepository = null,
        string? stateDirectory = null,
        Action<ClusterConnectionOptions>? configureClient = null)
    {
        var repository = RepositoryPaths.CopyModelsToTemp();
        prepareRepository?.Invoke(repository);
        var clusterId = "test-" + Guid.NewGuid().ToString("N")[..8];
        var cluster =
            new InProcessCluster(repository, stateDirectory ?? Directory.CreateTempSubdirectory("cluster-state-").FullName, stateDirectory is null, clusterId,
                redis);
        for (var i = 0; i < siloNames.Length; i++)
        {
            await cluster.AddSiloAsync(siloNames[i], perSilo?.Invoke(i));
        }

        var client = new ClusterConnectionOptions
        {
            ClusterId = clusterId,
            Gateways = cluster.Gateways,
            RedisConnectionString = redis,
        };
        configureClient?.Invoke(client);
        cluster.Connection = await ClusterConnection.ConnectAsync(client);
        return cluster;
    }

    /// <summary>Starts one more silo in the cluster (the first one started is the primary of Localhost clustering).</summary>
    public async Task AddSiloAsync(string name, Dictionary<string, string?>? extraSettings = null)
    {
        // A free port can be taken by another test process between choosing it and binding it: choose again.
        var first = _primarySiloPort is null;
        for (var attempt = 1; ; attempt++)
        {
            var ports = FreePorts.Take(5);
            if (first)
            {
                _primarySiloPort = ports[0];
            }

            var silo = await TryStartSiloAsync(name, ports, extraSettings);
            if (silo is not null)
            {
                Added(silo, ports);
                return;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException($"Silo {name}: its ports were taken by another process three times in a row.");
            }
        }
    }

    private async Task<IHost?> TryStartSiloAsync(string name, int[] ports, Dictionary<string, string?>? extraSettings)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:SiloName"] = name,
            ["Cluster:ClusterId"] = ClusterId,
            ["Cluster:SiloPort"] = Port(ports[0]),
            ["Cluster:GatewayPort"] = Port(ports[1]),
            ["Cluster:Edge:GrpcAddress"] = $"127.0.0.1:{ports[2]}",
            ["Cluster:Edge:HttpAddress"] = $"127.0.0.1:{ports[3]}",
            ["Cluster:MetricsAddress"] = $"127.0.0.1:{ports[4]}",
            ["Cluster:PrimarySiloPort"] = Port(_primarySiloPort ?? ports[0]),
            ["Cluster:ModelRepository"] = ModelRepository,
            ["Cluster:BundledModels"] = "",
            ["Cluster:StateDirectory"] = StateDirectory,
            ["Cluster:Devices:Cuda"] = "none",
            ["Cluster:Clustering"] = _redis is null ? "Localhost" : "Redis",
            ["Cluster:RedisConnectionString"] = _redis,
            ["Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extraSettings ?? [])
        {
            settings[key] = value;
        }

        var silo = ClusterHost.Build([], settings);
        try
        {
            await silo.StartAsync();
            return silo;
        }
        catch (Exception e) when (IsAddressInUse(e))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await silo.StopAsync(stop.Token);
            }
            catch (Exception stopping) when (stopping is not OutOfMemoryException)
            {
                // Whatever had started is torn down with the host below.
            }

            silo.Dispose();
            return null;
        }
    }

    private static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private void Added(IHost silo, int[] ports)
    {
        _silos.Add(silo);
        SiloPorts.Add(ports[0]);
        Gateways.Add($"127.0.0.1:{ports[1]}");
        GrpcAddresses.Add($"http://127.0.0.1:{ports[2]}");
        HttpAddresses.Add($"http://127.0.0.1:{ports[3]}");
        MetricsAddresses.Add($"http://127.0.0.1:{ports[4]}");
    }

    /// <summary>
    /// Stops silo <paramref name="index"/> the way SIGTERM stops a silo process (the host's StopAsync: it drains,
    /// then leaves the cluster) and drops it from <see cref="Silos"/>; the other lists keep their entries.
    /// </summary>
    public async Task StopSiloAsync(int index)
    {
        var silo = _silos[index];
        _silos.RemoveAt(index);
        await silo.StopAsync();
        silo.Dispose();
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
