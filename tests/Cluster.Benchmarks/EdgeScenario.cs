using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- edge</c>: the same wide_mlp load through the gRPC edge (a stub generated from the project's
/// proto, raw tensors, as tritonclient sends them) and through the SDK's grain calls, in one run: the SDK,
/// gRPC over one shared HTTP/2 connection, and gRPC with the callers spread over 8 connections (as separate
/// client processes would be), measured in turn in five rounds of short slices, each figure the mean of its rounds.
/// Writes artifacts/bench/edge.json.
/// </summary>
public sealed class EdgeScenario : IBenchScenario
{
    private const string Model = "wide_mlp";
    private const int Callers = 64;
    private const int Features = 256;
    private const int Connections = 8;
    private const int Rounds = 5;

    public string Name => "edge";

    public string Summary => "64 gRPC callers through the edge vs 64 SDK callers, and the edge's added p50 latency at 1 caller";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        Console.WriteLine($"edge: {Model}, {Environment.ProcessorCount} cores, {options.Seconds:0.##} s per load");
        var models = Path.Combine(repositoryRoot, "deploy", "models");
        await using var cluster = await BenchCluster.StartAsync(repository => ModelCopies.Copy(models, Model, repository));
        var channels = Enumerable.Range(0, Connections).Select(_ => GrpcChannel.ForAddress(cluster.GrpcAddress)).ToArray();
        try
        {
            await RunAsync(options, repositoryRoot, cluster, [.. channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c))]);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private static async Task RunAsync(BenchOptions options, string repositoryRoot, BenchCluster cluster, GRPCInferenceService.GRPCInferenceServiceClient[] stubs)
    {
        var grpc = stubs[0];

        var row = new float[Features];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = MathF.Sin(i);
        }

        TensorData[] sdkInputs = [TensorData.FromFloat32("input", row, 1, Features)];
        var request = new ModelInferRequest { ModelName = Model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32" };
        input.Shape.Add([1, Features]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(row.AsSpan())));

        Task Sdk(int _) => cluster.Inference.InferAsync(Model, sdkInputs);
        Task Grpc(int _) => grpc.ModelInferAsync(request).ResponseAsync;
        Task GrpcSpread(int caller) => stubs[caller % Connections].ModelInferAsync(request).ResponseAsync;

        // Throughput keeps rising for tens of seconds after start (JIT tiers, batch sizes settling), so after a
        // warm-up of each path (twice, in turn) the three paths are measured in turn, in short slices, round after
        // round, and each figure is the mean over the rounds: a drift over time weighs on all three alike.
        var paths = new Func<int, Task>[] { Sdk, Grpc, GrpcSpread };
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var path in paths)
            {
                await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup * 3).RunAsync(path);
            }
        }

        var slice = options with { Seconds = options.Seconds * 3 / Rounds, WarmupSeconds = 0.5 };
        var rounds = new List<(LoadResult Sdk, LoadResult Grpc, LoadResult Spread)>();
        for (var round = 1; round <= Rounds; round++)
        {
            rounds.Add((
                await Measure($"round {round}: SDK (grain calls)", Callers, Sdk, slice, cluster),
                await Measure($"round {round}: gRPC edge, one connection", Callers, Grpc, slice, cluster),
                await Measure($"round {round}: gRPC edge, {Connections} connections", Callers, GrpcSpread, slice, cluster)));
        }

        var sdk = rounds[^1].Sdk;
        var viaGrpc = rounds[^1].Grpc;
        var sdkSingle = await Measure("SDK (grain calls)", 1, Sdk, options, cluster);
        var grpcSingle = await Measure("gRPC edge", 1, Grpc, options, cluster);

        var results = new EdgeResults
        {
            GrpcSamplesPerSecond = Math.Round(rounds.Average(r => r.Grpc.SamplesPerSecond), 1),
            SdkSamplesPerSecond = Math.Round(rounds.Average(r => r.Sdk.SamplesPerSecond), 1),
            GrpcSpreadSamplesPerSecond = Math.Round(rounds.Average(r => r.Spread.SamplesPerSecond), 1),
            GrpcP50Milliseconds = viaGrpc.P50Milliseconds,
            GrpcP99Milliseconds = viaGrpc.P99Milliseconds,
            SdkP50Milliseconds = sdk.P50Milliseconds,
            GrpcConcurrency1P50Microseconds = grpcSingle.P50Microseconds,
            SdkConcurrency1P50Microseconds = sdkSingle.P50Microseconds,
            Cores = Environment.ProcessorCount,
            Seconds = options.Seconds,
        };
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "value", "unit"],
            [
                [$"gRPC edge, {Callers} callers, one connection", BenchReport.Number(results.GrpcSamplesPerSecond), "samples/s"],
                [$"gRPC edge, {Callers} callers, {Connections} connections", BenchReport.Number(results.GrpcSpreadSamplesPerSecond), "samples/s"],
                [$"SDK, {Callers} callers (mean of {Rounds} rounds)", BenchReport.Number(results.SdkSamplesPerSecond), "samples/s"],
                ["gRPC / SDK, one connection", BenchReport.Number(results.GrpcOverSdk, 3), "x"],
                [$"gRPC / SDK, {Connections} connections", BenchReport.Number(results.GrpcSpreadOverSdk, 3), "x"],
                [$"gRPC edge, {Callers} callers p50 / p99", $"{results.GrpcP50Milliseconds:0.###} / {results.GrpcP99Milliseconds:0.###}", "ms"],
                ["gRPC p50 overhead over SDK, 1 caller", BenchReport.Number(results.GrpcOverheadP50Microseconds), "us"],
            ]));
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "edge.json", results)}");
    }

    private static async Task<LoadResult> Measure(string what, int callers, Func<int, Task> call, BenchOptions options, BenchCluster cluster)
    {
        var before = await cluster.Inference.GetStatisticsAsync(Model);
        var result = await new ClosedLoopLoad(callers, options.Warmup, options.Measure).RunAsync(call);
        var after = await cluster.Inference.GetStatisticsAsync(Model);
        var meanBatch = (after.InferenceCount - before.InferenceCount) / (double)Math.Max(1, after.ExecutionCount - before.ExecutionCount);
        Console.WriteLine($"  {what}, {callers} callers: {result.SamplesPerSecond:N0} samples/s, p50 {result.P50Milliseconds:0.###} ms, p99 {result.P99Milliseconds:0.###} ms, mean batch {meanBatch:0.0} (warm-up included)");
        return result;
    }
}

/// <summary>The <c>edge</c> scenario's figures.</summary>
public sealed record EdgeResults
{
    [JsonPropertyName("grpc_samples_per_s")] public required double GrpcSamplesPerSecond { get; init; }

    [JsonPropertyName("sdk_samples_per_s")] public required double SdkSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_over_sdk")] public double GrpcOverSdk => Math.Round(GrpcSamplesPerSecond / SdkSamplesPerSecond, 4);

    [JsonPropertyName("grpc_8_connections_samples_per_s")] public required double GrpcSpreadSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_8_connections_over_sdk")] public double GrpcSpreadOverSdk => Math.Round(GrpcSpreadSamplesPerSecond / SdkSamplesPerSecond, 4);

    [JsonPropertyName("grpc_p50_ms")] public required double GrpcP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_p99_ms")] public required double GrpcP99Milliseconds { get; init; }

    [JsonPropertyName("sdk_p50_ms")] public required double SdkP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_concurrency1_p50_us")] public required double GrpcConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("sdk_concurrency1_p50_us")] public required double SdkConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("grpc_overhead_p50_us")] public double GrpcOverheadP50Microseconds => GrpcConcurrency1P50Microseconds - SdkConcurrency1P50Microseconds;

    [JsonPropertyName("cores")] public required int Cores { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
}
