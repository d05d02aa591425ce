using System.Diagnostics;
using System.Globalization;
using Cluster.Tests.Shared;

namespace Cluster.Benchmarks;

/// <summary>The <see cref="PeerServer"/> in its own process (this benchmark's build run with <c>dotnet</c>), on a free loopback port. Disposing kills
/// it.</summary>
public sealed class PeerProcess : IDisposable
{
    private PeerProcess(Process process, int port, int metricsPort)
    {
        Process = process;
        Address = $"http://127.0.0.1:{port}";
        MetricsAddress = $"http://127.0.0.1:{metricsPort}/metrics";
    }

    /// <summary>The peer's process, for its CPU time.</summary>
    public Process Process { get; }

    /// <summary>The peer's gRPC address, as a URL.</summary>
    public string Address { get; }

    /// <summary>The peer's metrics page: its runtime's allocated bytes, as the silo's page gives them.</summary>
    public string MetricsAddress { get; }

    /// <summary>Starts the peer serving <paramref name="modelFolder"/> and waits until it accepts calls.</summary>
    public static async Task<PeerProcess> StartAsync(string modelFolder)
    {
        var ports = FreePorts.Take(2);
        var dll = typeof(PeerServer).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", [dll, PeerServer.Command, modelFolder, .. ports.Select(p => p.ToString(CultureInfo.InvariantCulture))])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        ServingRuntime.Apply(start);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = OrphanGuard.Watch(Process.Start(start)!);
        var peer = new PeerProcess(process, ports[0], ports[1]);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == PeerServer.ReadyLine)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"  peer: {e.Data}");
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"The peer exited with code {process.ExitCode} before it was ready."));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return peer;
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }

        Process.Dispose();
    }
}
