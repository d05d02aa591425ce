using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cluster.Tests.Shared;

namespace Cluster.Benchmarks;

/// <summary>
/// Silo processes (the silo's own build output, run with <c>dotnet</c>) clustering through one Redis, each on
/// free loopback ports. Disposing stops every process still running.
/// </summary>
public sealed class SiloFleet : IDisposable
{
    private readonly List<(Process Process, int GatewayPort, int GrpcPort, int MetricsPort)> _silos = [];
    private readonly List<StringBuilder> _outputs = [];

    private SiloFleet(string clusterId)
    {
        ClusterId = clusterId;
    }

    /// <summary>The Orleans cluster id the silos share.</summary>
    public string ClusterId { get; }

    /// <summary>Each silo's gRPC edge, as a URL.</summary>
    public IEnumerable<string> GrpcAddresses => _silos.Select(s => $"http://127.0.0.1:{s.GrpcPort}");

    /// <summary>Each silo's Prometheus endpoint, as a URL.</summary>
    public IEnumerable<string> MetricsAddresses => _silos.Select(s => $"http://127.0.0.1:{s.MetricsPort}/metrics");

    /// <summary>Each silo's Orleans gateway, <c>127.0.0.1:port</c>.</summary>
    public IEnumerable<string> Gateways => _silos.Select(s => $"127.0.0.1:{s.GatewayPort}");

    /// <summary>
    /// Starts <paramref name="count"/> silos serving <paramref name="modelRepository"/> and waits until each reports ready;
    /// <paramref name="settings"/> adds environment variables (<c>Cluster__...</c>) to every silo.
    /// </summary>
    public static async Task<SiloFleet> StartAsync(string repositoryRoot, string redis, string modelRepository, int count, IReadOnlyDictionary<string,
        string>? settings = null)
    {
        var dll = SiloDll(repositoryRoot);
        var clusterId = "fleet-" + Guid.NewGuid().ToString("N")[..8];
        var fleet = new SiloFleet(clusterId);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var ports = FreePorts.Take(5);
                var start = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true,
                    WorkingDirectory = repositoryRoot };
                foreach (var (key, value) in SiloEnvironment($"silo-{i}", clusterId, redis, modelRepository, ports)
                    .Concat(settings ?? new Dictionary<string, string>()))
                {
                    start.Environment[key] = value;
                }

                ServingRuntime.Apply(start);

                var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var output = new StringBuilder();
                var process = OrphanGuard.Watch(Process.Start(start)!);
                process.OutputDataReceived += (_, e) =>
                {
                    Append(output, e.Data);
                    if (e.Data?.Contains($"Silo silo-{i} ready", StringComparison.Ordinal) == true)
                    {
                        ready.TrySetResult();
                    }
                };
                process.ErrorDataReceived += (_, e) => Append(output, e.Data);
                fleet._outputs.Add(output);
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                fleet._silos.Add((process, ports[1], ports[2], ports[4]));
                await ready.Task.WaitAsync(TimeSpan.FromSeconds(90));
            }

            return fleet;
        }
        catch
        {
            fleet.Dispose();
            throw;
        }
    }

    /// <summary>The silos' processes.</summary>
    public IEnumerable<Process> Processes => _silos.Select(s => s.Process);

    /// <summary>What silo <paramref name="index"/> has written so far, standard output and error together.</summary>
    public string Output(int index)
    {
        lock (_outputs[index])
        {
            return _outputs[index].ToString();
        }
    }

    /// <summary>Ends silo <paramref name="index"/> with SIGKILL: no goodbye to the cluster, as a crash or a lost node.</summary>
    public void Kill(int index) => _silos[index].Process.Kill();

    /// <summary>Stops silo <paramref name="index"/> with SIGTERM: the silo drains and leaves the cluster, as on a rolling restart.</summary>
    public void Terminate(int index)
    {
        using var kill = Process.Start("kill", ["-TERM", _silos[index].Process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (process, _, _, _) in _silos)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <summary>The silo's Release build, which the fleet runs with <c>dotnet</c>.</summary>
    public static string SiloDll(string repositoryRoot) =>
        Path.Combine(repositoryRoot, "silo", "Cluster.Silo", "bin", "Release", "net10.0", "Cluster.Silo.dll");

    /// <summary>
    /// A fleet silo's settings as environment variables: its name, the cluster through Redis, the five ports
    /// (silo, gateway, gRPC, REST, metrics), the model repository alone (no bundled models), no CUDA, warnings only.
    /// </summary>
    public static Dictionary<string, string> SiloEnvironment(string name, string clusterId, string redis, string modelRepository, int[] ports) => new()
    {
        ["Cluster__SiloName"] = name,
        ["Cluster__ClusterId"] = clusterId,
        ["Cluster__Clustering"] = "Redis",
        ["Cluster__RedisConnectionString"] = redis,
        ["Cluster__AdvertisedAddress"] = "127.0.0.1",
        ["Cluster__SiloPort"] = Port(ports[0]),
        ["Cluster__GatewayPort"] = Port(ports[1]),
        ["Cluster__Edge__GrpcAddress"] = $"127.0.0.1:{ports[2]}",
        ["Cluster__Edge__HttpAddress"] = $"127.0.0.1:{ports[3]}",
        ["Cluster__MetricsAddress"] = $"127.0.0.1:{ports[4]}",
        ["Cluster__ModelRepository"] = modelRepository,
        ["Cluster__BundledModels"] = "",
        ["Cluster__Devices__Cuda"] = "none",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Cluster.Silo.Hosting.StartupReport"] = "Information",
    };

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
