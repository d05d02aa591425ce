using System.Globalization;
using Cluster.Client;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Hosting;

namespace Cluster.Benchmarks;

/// <summary>
/// One real silo in this process, built by the silo's own <see cref="ClusterHost"/> on free ports over a
/// temporary model repository, and a client connected through its gateway. Disposing stops both and
/// deletes the repository.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly IHost _silo;

    private BenchCluster(string modelRepository, IHost silo, ClusterConnection connection, string grpcAddress, string httpAddress)
    {
        HttpAddress = httpAddress;
        ModelRepository = modelRepository;
        _silo = silo;
        Connection = connection;
        GrpcAddress = grpcAddress;
    }

    /// <summary>The bundled pretrained models written beside this program by build/PretrainedModels.targets.</summary>
    public static string BundledModelsPath => Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>The silo's gRPC edge, as a URL.</summary>
    public string GrpcAddress { get; }

    /// <summary>The silo's REST edge, as a URL.</summary>
    public string HttpAddress { get; }

    /// <summary>The silo's temporary model repository.</summary>
    public string ModelRepository { get; }

    /// <summary>The client connection.</summary>
    public ClusterConnection Connection { get; }

    /// <summary>The client's inference API.</summary>
    public InferenceClient Inference => Connection.Inference;

    /// <summary>
    /// Creates an empty temporary repository, lets <paramref name="prepareRepository"/> fill it, starts the
    /// silo (CPU only, warnings and errors logged; the bundled models too when <paramref name="bundledModels"/>;
    /// <paramref name="settings"/> added, e.g. simulated devices) and connects a client.
    /// </summary>
    public static async Task<BenchCluster> StartAsync(Action<string> prepareRepository, bool bundledModels = false, IReadOnlyDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(prepareRepository);
        var repository = Directory.CreateTempSubdirectory("cluster-bench-models-").FullName;
        IHost? silo = null;
        try
        {
            prepareRepository(repository);
            var ports = FreePorts.Take(5);
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
            var configuration = new Dictionary<string, string?>
            {
                ["Cluster:SiloName"] = "bench",
                ["Cluster:ClusterId"] = clusterId,
                ["Cluster:SiloPort"] = Port(ports[0]),
                ["Cluster:GatewayPort"] = Port(ports[1]),
                ["Cluster:ModelRepository"] = repository,
                ["Cluster:BundledModels"] = bundledModels ? BundledModelsPath : "",
                ["Cluster:Devices:Cuda"] = "none",
                ["Cluster:Edge:GrpcAddress"] = $"127.0.0.1:{ports[2]}",
                ["Cluster:Edge:HttpAddress"] = $"127.0.0.1:{ports[3]}",
                ["Cluster:MetricsAddress"] = $"127.0.0.1:{ports[4]}",
                ["Cluster:Clustering"] = "Localhost",
                ["Cluster:AdvertisedAddress"] = "127.0.0.1",
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                configuration[key] = value;
            }

            silo = ClusterHost.Build([], configuration);
            await silo.StartAsync();
            var connection = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = clusterId,
                Gateways = [$"127.0.0.1:{Port(ports[1])}"],
            });
            return new BenchCluster(repository, silo, connection, $"http://127.0.0.1:{Port(ports[2])}", $"http://127.0.0.1:{Port(ports[3])}");
        }
        catch
        {
            if (silo is not null)
            {
                await silo.StopAsync();
                silo.Dispose();
            }

            Directory.Delete(repository, recursive: true);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _silo.StopAsync();
        _silo.Dispose();
        Directory.Delete(ModelRepository, recursive: true);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
