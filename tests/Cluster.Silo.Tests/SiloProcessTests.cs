using System.Diagnostics;
using System.Globalization;
using Cluster.Tests.Shared;

namespace Cluster.Silo.Tests;

/// <summary>The silo executable as a user runs it, driven by the console as a user drives it.</summary>
public sealed class SiloProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Silo_ServesCliRequests_AndExitsCleanlyOnSigterm()
    {
        var ports = FreePorts.Take(5);
        var gateway = $"127.0.0.1:{ports[1]}";
        using var silo = ChildProcess.Start(Path.Combine("silo", "Cluster.Silo"), "Cluster.Silo", [], new Dictionary<string, string>
        {
            ["Cluster__SiloName"] = "process-test",
            ["Cluster__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Cluster__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Cluster__Devices__Cuda"] = "none",
            ["Cluster__Edge__GrpcAddress"] = $"127.0.0.1:{ports[2]}",
            ["Cluster__Edge__HttpAddress"] = $"127.0.0.1:{ports[3]}",
            ["Cluster__MetricsAddress"] = $"127.0.0.1:{ports[4]}",
        });
        await silo.WaitForOutputAsync("Silo process-test ready: Localhost clustering", StartTimeout);
        Assert.Contains("Device cpu:0 (cpu): Healthy", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Model tiny_classifier (max_batch_size 8): v1", silo.Output, StringComparison.Ordinal);

        var (modelsExit, models) = await ChildProcess.RunCliAsync("models", "--gateway", gateway);
        Assert.Equal(0, modelsExit);
        Assert.Contains("tiny_classifier  (max_batch_size 8, served versions: 1)", models, StringComparison.Ordinal);
        Assert.Contains("input   features FP32 [-1,4]", models, StringComparison.Ordinal);

        var (inferExit, infer) = await ChildProcess.RunCliAsync("infer", "tiny_classifier", "--input", "features=1,2,3,4", "--gateway", gateway);
        Assert.Equal(0, inferExit);
        const string Prefix = "probabilities FP32 [1,3]: ";
        var line = infer.Split('\n').Single(l => l.Contains(Prefix, StringComparison.Ordinal));
        var printed = line[(line.IndexOf(Prefix, StringComparison.Ordinal) + Prefix.Length)..].Split(", ")
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var expected = TinyClassifierReference([1, 2, 3, 4]);
        Assert.Equal(expected.Length, printed.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - printed[i]) < 1e-5, $"probability {i}: expected {expected[i]}, printed {printed[i]}");
        }

        var (grpcExit, viaGrpc) = await ChildProcess.RunCliAsync("infer", "tiny_classifier", "--input", "features=1,2,3,4", "--grpc", $"127.0.0.1:{ports[2]}");
        Assert.Equal(0, grpcExit);
        Assert.Contains(line, viaGrpc, StringComparison.Ordinal);

        var (badExit, bad) =
            await ChildProcess.RunCliAsync("infer", "tiny_classifier", "--input", "features=1,2,3,4", "--shape", "features=2x2", "--gateway", gateway);
        Assert.Equal(1, badExit);
        Assert.Contains("InvalidInputException: Input 'features' of model 'tiny_classifier' version 1 has shape [2,2]; expected [-1,4]", bad,
            StringComparison.Ordinal);

        // A console holding a connection (top's live view) ends on SIGTERM as any process does: the connection takes no signal of its own.
        using (var top = ChildProcess.Start(Path.Combine("client", "Cluster.Cli"), "cluster", ["top", "--gateway", gateway]))
        {
            await top.WaitForOutputAsync("frame 1", StartTimeout);
            top.Terminate();
            Assert.True(await top.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"console still running 10 s after SIGTERM; output:\n{top.Output}");
            Assert.True(top.ExitCode == 143, $"exit code {top.ExitCode} after SIGTERM; output:\n{top.Output}");
        }

        var stopwatch = Stopwatch.StartNew();
        silo.Terminate();
        Assert.True(await silo.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"silo still running 10 s after SIGTERM; output:\n{silo.Output}");
        Assert.Equal(0, silo.ExitCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ReadmeRunCommand_FromRepositoryRoot_ServesTheDefaultRepository()
    {
        var ports = FreePorts.Take(5);
        var start = new ProcessStartInfo("dotnet", ["run", "--no-build", "-c", RepositoryPaths.Configuration, "--project", "silo/Cluster.Silo"])
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Cluster__SiloName"] = "readme-run";
        start.Environment["Cluster__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture);
        start.Environment["Cluster__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture);
        start.Environment["Cluster__Edge__GrpcAddress"] = $"127.0.0.1:{ports[2]}";
        start.Environment["Cluster__Edge__HttpAddress"] = $"127.0.0.1:{ports[3]}";
        start.Environment["Cluster__MetricsAddress"] = $"127.0.0.1:{ports[4]}";
        start.Environment["Cluster__OtlpEndpoint"] = $"http://127.0.0.1:{FreePorts.Take(1)[0]}";
        using var silo = ChildProcess.Start(start);
        await silo.WaitForOutputAsync("Silo readme-run ready: Localhost clustering", StartTimeout);
        Assert.Contains("Model tiny_classifier (max_batch_size 8): v1", silo.Output, StringComparison.Ordinal);

        using var http = new HttpClient();
        const string Body = """{"inputs":[{"name":"ids","shape":[1,2],"datatype":"INT64","data":[1,2]}]}""";
        var response = await http.PostAsync($"http://127.0.0.1:{ports[3]}/v2/models/int64_scale/infer", new StringContent(Body));
        Assert.Contains("\"data\":[4,7]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The bundled embedder, as the README's embed example shows it.
        Assert.Contains("Model all-MiniLM-L6-v2-embeddings (max_batch_size 64): v1", silo.Output, StringComparison.Ordinal);
        var (embedExit, embed) =
            await ChildProcess.RunCliAsync("embed", "A man is eating food.", "Someone is having a meal.", "--gateway", $"127.0.0.1:{ports[1]}");
        Assert.Equal(0, embedExit);
        Assert.Contains("all-MiniLM-L6-v2-embeddings: 2 text(s), 384 dimensions", embed, StringComparison.Ordinal);
        var similarity =
            double.Parse(embed.Split('\n').Single(l => l.Contains("[1] ~ [2]", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1],
                CultureInfo.InvariantCulture);
        Assert.InRange(similarity, 0.6, 0.8);
    }

    [Fact]
    public async Task Silo_InvalidConfiguration_FailsAtStartNamingTheSettings()
    {
        using var silo = ChildProcess.Start(Path.Combine("silo", "Cluster.Silo"), "Cluster.Silo", [], new Dictionary<string, string>
        {
            ["Cluster__Clustering"] = "Redis",
            ["Cluster__GatewayPort"] = "70000",
            ["Cluster__ModelRepository"] = "/nonexistent/models",
            ["Cluster__OtlpEndpoint"] = "collector without scheme",
            ["Orleans__Metadata__speed"] = "fast",
            ["Orleans__Metadata__cost_per_hour"] = "-1",
            ["Cluster__Membership__ProbeTimeoutMilliseconds"] = "10",
            ["Cluster__Membership__TableRefreshSeconds"] = "0",
        });
        Assert.True(await silo.WaitForExitAsync(StartTimeout), silo.Output);
        Assert.Equal(2, silo.ExitCode);
        Assert.Contains("Cluster:RedisConnectionString is required when Cluster:Clustering is 'Redis'", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Cluster:GatewayPort 70000 is not a TCP port", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Cluster:ModelRepository '/nonexistent/models' does not exist", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Cluster:OtlpEndpoint 'collector without scheme' is not an absolute URI", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Orleans:Metadata:speed 'fast' is not a non-negative number", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Orleans:Metadata:cost_per_hour '-1' is not a non-negative number", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Cluster:Membership:ProbeTimeoutMilliseconds 10 must be at least 100", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Cluster:Membership:TableRefreshSeconds 0 must be at least 1", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_NoSiloListening_ExitsWithConnectionError()
    {
        var port = FreePorts.Take(1)[0];
        var (exit, output) = await ChildProcess.RunCliAsync("models", "--gateway", $"127.0.0.1:{port}");
        Assert.Equal(3, exit);
        Assert.Contains($"Cannot connect to the cluster (gateway 127.0.0.1:{port}): No gateway answered within 5 s.", output, StringComparison.Ordinal);

        var (grpcExit, grpcOutput) = await ChildProcess.RunCliAsync("infer", "tiny_classifier", "--input", "features=1,2,3,4", "--grpc", $"127.0.0.1:{port}");
        Assert.Equal(3, grpcExit);
        Assert.Contains($"Cannot connect to the cluster (gRPC edge 127.0.0.1:{port})", grpcOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_UnknownCommand_PrintsUsage()
    {
        var (exit, output) = await ChildProcess.RunCliAsync("frobnicate");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown command 'frobnicate'.", output, StringComparison.Ordinal);
        Assert.Contains("Usage: cluster <command>", output, StringComparison.Ordinal);
    }

    /// <summary>The tiny classifier's output computed in plain managed maths from the committed ONNX file's weights.</summary>
    private static double[] TinyClassifierReference(float[] x)
    {
        var model = Cluster.Inference.Onnx.Proto.ModelProto.Parser.ParseFrom(
            File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "tiny_classifier", "1", "model.onnx")));
        float[] W(string name) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte,
            float>(model.Graph.Initializer.Single(t => t.Name == name).RawData.Span).ToArray();
        double[] Dense(double[] input, float[] w, float[] b) =>
            Enumerable.Range(0, b.Length).Select(o => b[o] + Enumerable.Range(0, input.Length).Sum(i => input[i] * w[(i * b.Length) + o])).ToArray();
        var hidden = Dense(Array.ConvertAll(x, v => (double)v), W("w1"), W("b1")).Select(v => Math.Max(0, v)).ToArray();
        var logits = Dense(hidden, W("w2"), W("b2"));
        var exp = logits.Select(v => Math.Exp(v - logits.Max())).ToArray();
        return exp.Select(v => v / exp.Sum()).ToArray();
    }
}
