using System.Diagnostics;
using System.Globalization;
using Cluster.Tests.Shared;

namespace Cluster.Benchmarks;

/// <summary>
/// One silo process of the soak fleet (the silo's own build output, run with <c>dotnet</c>), clustering through
/// Redis on free loopback ports, with two simulated devices: the first fails a few batches once it has run a
/// few thousand (a device fault the replica survives by running the batch again on the second).
/// </summary>
public sealed class SoakProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private double _drainMilliseconds = double.NaN;

    private SoakProcess(string name, Process process, string metricsUrl)
    {
        Name = name;
        _process = process;
        MetricsUrl = metricsUrl;
    }

    /// <summary>The silo's name.</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>The silo's Prometheus endpoint.</summary>
    public string MetricsUrl { get; }

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>How long the silo's drain took, from its log line, once it has stopped gracefully.</summary>
    public double? DrainMilliseconds => Volatile.Read(ref _drainMilliseconds) is var ms && double.IsNaN(ms) ? null : ms;

    /// <summary>Starts a silo named <paramref name="name"/>; <see cref="WaitReadyAsync"/> waits for its ready line.</summary>
    public static SoakProcess Start(string repositoryRoot, string name, string clusterId, string redis, string modelRepository, int faultAfterBatches)
    {
        var ports = FreePorts.Take(5);
        var start = new ProcessStartInfo("dotnet", [SiloFleet.SiloDll(repositoryRoot)]) { RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = repositoryRoot };
        var settings = SiloFleet.SiloEnvironment(name, clusterId, redis, modelRepository, ports);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Cluster__Devices__Simulated__0__Profile"] = "flaky",
            ["Cluster__Devices__Simulated__0__FixedLatencyMicroseconds"] = "1000",
            ["Cluster__Devices__Simulated__0__PerItemMicroseconds"] = "1000",
            ["Cluster__Devices__Simulated__0__Fault__Mode"] = "throw",
            ["Cluster__Devices__Simulated__0__Fault__AfterBatches"] = Port(faultAfterBatches),
            ["Cluster__Devices__Simulated__0__Fault__ForBatches"] = "3",
            ["Cluster__Devices__Simulated__1__Profile"] = "steady",
            ["Cluster__Devices__Simulated__1__FixedLatencyMicroseconds"] = "1000",
            ["Cluster__Devices__Simulated__1__PerItemMicroseconds"] = "1000",
            ["Logging__LogLevel__Cluster.Grains.Drain"] = "Information",
        })
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        ServingRuntime.Apply(start);
        var process = OrphanGuard.Watch(Process.Start(start)!);
        var silo = new SoakProcess(name, process, $"http://127.0.0.1:{ports[4]}/metrics");
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits (up to 90 s) for the silo's ready line.</summary>
    public Task WaitReadyAsync() => _ready.Task.WaitAsync(TimeSpan.FromSeconds(90));

    /// <summary>The process's resident set size in MiB (0 once it has ended).</summary>
    public double RssMb()
    {
        try
        {
            var line = File.ReadLines($"/proc/{Pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0
                : Math.Round(double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024, 1);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Sends SIGTERM and waits (up to 20 s) for the process to end; returns its exit code, or null if it did not end.</summary>
    public async Task<int?> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Ends the process with SIGKILL: no goodbye to the cluster.</summary>
    public void Kill() => _process.Kill();

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains($"Silo {Name} ready", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }

        var drained = line.IndexOf($"Silo {Name} drained in ", StringComparison.Ordinal);
        if (drained >= 0)
        {
            var rest = line[(drained + $"Silo {Name} drained in ".Length)..];
            if (double.TryParse(rest.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                Volatile.Write(ref _drainMilliseconds, ms);
            }
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}
