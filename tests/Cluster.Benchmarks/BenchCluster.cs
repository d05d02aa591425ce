using System.Globalization;
using Cluster.Client;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Hosting;

namespace Cluster.Benchmarks;

/// <summary>
/// Real silos in this process (one unless told otherwise), built by the silo's own <see cref="ClusterHost"/>
/// on free ports over a temporary model repository, and a client connected through the first one's gateway.
/// Disposing stops them all and deletes the repository.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly List<IHost> _silos;

    private BenchCluster(string modelRepository, List<IHost> silos, ClusterConnection connection, string grpcAddress, string httpAddress)
    {
        ModelRepository = modelRepository;
        _silos = silos;
        Connection = connection;
        GrpcAddress = grpcAddress;
        HttpAddress = httpAddress;
    }

    /// <summary>The bundled pretrained models written beside this program by build/PretrainedModels.targets.</summary>
    public static string BundledModelsPath => Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>How many silos run.</summary>
    public int SiloCount => _silos.Count;

    /// <summary>The first silo's gRPC edge, as a URL.</summary>
    public string GrpcAddress { get; }

    /// <summary>The first silo's REST edge, as a URL.</summary>
    public string HttpAddress { get; }

    /// <summary>The silo's temporary model repository.</summary>
    public string ModelRepository { get; }

    /// <summary>The client connection.</summary>
    public ClusterConnection Connection { get; }

    /// <summary>The client's inference API.</summary>
    public InferenceClient Inference => Connection.Inference;

    /// <summary>
    /// Creates an empty temporary repository, lets <paramref name="prepareRepository"/> fill it, starts one
    /// silo per entry of <paramref name="silos"/> (extra settings each; default one silo named <c>bench</c>;
    /// CPU only unless the settings add simulated devices, warnings and errors logged; the bundled models
    /// too when <paramref name="bundledModels"/>) and connects a client.
    /// </summary>
    public static async Task<BenchCluster> StartAsync(Action<string> prepareRepository, bool bundledModels = false, IReadOnlyList<Dictionary<string,
        string?>>? silos = null)
    {
        ArgumentNullException.ThrowIfNull(prepareRepository);
        silos ??= [new() { ["Cluster:SiloName"] = "bench" }];
        var repository = Directory.CreateTempSubdirectory("cluster-bench-models-").FullName;
        var started = new List<IHost>();
        try
        {
            prepareRepository(repository);
            var ports = FreePorts.Take(5 * silos.Count);
            var clusterId = "bench-" + Guid.NewGuid().ToString("N")[..8];
            for (var i = 0; i < silos.Count; i++)
            {
                var settings = new Dictionary<string, string?>
                {
                    ["Cluster:ClusterId"] = clusterId,
                    ["Cluster:SiloPort"] = Port(ports[5 * i]),
                    ["Cluster:PrimarySiloPort"] = Port(ports[0]),
                    ["Cluster:GatewayPort"] = Port(ports[(5 * i) + 1]),
                    ["Cluster:ModelRepository"] = repository,
                    ["Cluster:BundledModels"] = bundledModels ? BundledModelsPath : "",
                    // CPU unless CLUSTER_BENCH_CUDA says otherwise (tests/gpu/run.sh sets "auto" to run the benchmarks on the GPU).
                    ["Cluster:Devices:Cuda"] = Environment.GetEnvironmentVariable("CLUSTER_BENCH_CUDA") ?? "none",
                    ["Cluster:Edge:GrpcAddress"] = $"127.0.0.1:{ports[(5 * i) + 2]}",
                    ["Cluster:Edge:HttpAddress"] = $"127.0.0.1:{ports[(5 * i) + 3]}",
                    ["Cluster:MetricsAddress"] = $"127.0.0.1:{ports[(5 * i) + 4]}",
                    ["Cluster:Clustering"] = "Localhost",
                    ["Cluster:AdvertisedAddress"] = "127.0.0.1",
                    ["Logging:LogLevel:Default"] = "Warning",
                };
                foreach (var (key, value) in silos[i])
                {
                    settings[key] = value;
                }

                var silo = ClusterHost.Build([], settings);
                started.Add(silo);
                await silo.StartAsync();
            }

            var connection = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = clusterId,
                Gateways = [$"127.0.0.1:{Port(ports[1])}"],
            });
            return new BenchCluster(repository, started, connection, $"http://127.0.0.1:{Port(ports[2])}", $"http://127.0.0.1:{Port(ports[3])}");
        }
        catch
        {
            await StopAsync(started);
            Directory.Delete(repository, recursive: true);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await StopAsync(_silos);
        Directory.Delete(ModelRepository, recursive: true);
    }

    private static async Task StopAsync(List<IHost> silos)
    {
        for (var i = silos.Count - 1; i >= 0; i--)
        {
            await silos[i].StopAsync();
            silos[i].Dispose();
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
