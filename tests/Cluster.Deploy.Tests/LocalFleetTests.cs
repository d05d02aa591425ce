using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cluster.Silo.Tests;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary><c>deploy/local/fleet.sh</c> as a user runs it: three silos through a real Redis, stopped by SIGTERM.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed partial class LocalFleetTests
{
    private static readonly int[] PortOffsets = [0, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 30, 31, 32, 33, 34];

    [Fact]
    public async Task FleetScript_StartsThreeSilosThatServe_AndStopsEverythingOnSigterm()
    {
        var basePort = FreeBasePort();
        var logs = Directory.CreateTempSubdirectory("fleet-test-").FullName;
        var siloBuild = Path.Combine(RepositoryPaths.Root, "silo", "Cluster.Silo", "bin", RepositoryPaths.Configuration, "net10.0");
        using var fleet = ChildProcess.Start(Script("--base-port", Port(basePort), "--silo-dir", siloBuild, "--log-dir", logs));
        await fleet.WaitForOutputAsync("fleet: Ctrl-C stops every process", TimeSpan.FromSeconds(180));
        var pids = ProcessId().Matches(fleet.Output).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(4, pids.Length);

        using var http = new HttpClient();
        const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";
        var response = await http.PostAsync($"http://127.0.0.1:{basePort + 23}/v2/models/tiny_classifier/infer", new StringContent(Body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using (var json = JsonDocument.Parse(text))
        {
            var probabilities = json.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(3, probabilities.Length);
            Assert.Equal(1.0, probabilities.Sum(), 5);
            Assert.Equal(0.56050056, probabilities[0], 5);
        }

        foreach (var (silo, offset) in new[] { ("silo-aws", 10), ("silo-gcp", 20), ("silo-cpu", 30) })
        {
            var metrics = await http.GetStringAsync($"http://127.0.0.1:{basePort + offset + 4}/metrics");
            Assert.Matches($"cluster_silos\\{{[^}}]*silo=\"{silo}\",state=\"Active\"\\}} 3", metrics);
        }

        // The console finds the silos through Redis and lists them with their metadata.
        var (statusExit, status) = await ChildProcess.RunCliAsync("status", "--json", "--redis", $"127.0.0.1:{basePort}");
        Assert.True(statusExit == 0, status);
        foreach (var expected in new[] { "\"silo-aws\"", "\"silo-gcp\"", "\"silo-cpu\"", "\"aws\"", "\"europe-west4\"", "\"sim:h100\"" })
        {
            Assert.Contains(expected, status, StringComparison.Ordinal);
        }

        var stopwatch = Stopwatch.StartNew();
        fleet.Terminate();
        Assert.True(await fleet.WaitForExitAsync(TimeSpan.FromSeconds(40)), $"fleet.sh still running 40 s after SIGTERM; output:\n{fleet.Output}");
        Assert.Equal(0, fleet.ExitCode);
        Assert.Contains("fleet: stopped", fleet.Output, StringComparison.Ordinal);

        // Every silo left by itself within the script's 20 s: none had to be killed.
        Assert.DoesNotContain("did not stop within", fleet.Output, StringComparison.Ordinal);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} outlived fleet.sh"));
        Assert.All(PortOffsets, offset => Assert.True(IsFree(basePort + offset), $"port {basePort + offset} still in use"));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"stopping took {stopwatch.Elapsed}");
        Directory.Delete(logs, recursive: true);
    }

    [Fact]
    public async Task FleetScript_WithoutRedisServer_SaysSoAndExits3()
    {
        // A PATH holding what the script needs except redis-server.
        var bin = Directory.CreateTempSubdirectory("fleet-path-").FullName;
        foreach (var tool in new[] { "dirname", "dotnet", "curl" })
        {
            var found = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, tool), found);
        }

        var start = Script("--base-port", Port(FreeBasePort()));
        start.Environment["PATH"] = bin;
        using var fleet = ChildProcess.Start(start);
        Assert.True(await fleet.WaitForExitAsync(TimeSpan.FromSeconds(30)), fleet.Output);
        Assert.Equal(3, fleet.ExitCode);
        Assert.Contains("fleet: 'redis-server' is not on PATH", fleet.Output, StringComparison.Ordinal);
        Directory.Delete(bin, recursive: true);
    }

    private static ProcessStartInfo Script(params string[] args)
    {
        var bash = File.Exists("/bin/bash") ? "/bin/bash" : "bash";
        var start = new ProcessStartInfo(bash)
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine("deploy", "local", "fleet.sh"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>A base port whose every port the fleet uses is free.</summary>
    private static int FreeBasePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var candidate = FreePorts.Take(1)[0];
            if (candidate + PortOffsets[^1] <= 65535 && PortOffsets.All(offset => IsFree(candidate + offset)))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No run of free ports found for the fleet.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\(pid (\d+)\)")]
    private static partial Regex ProcessId();
}
