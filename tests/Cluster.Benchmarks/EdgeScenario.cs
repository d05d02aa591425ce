using System.Diagnostics;
using System.Runtime.InteropServices;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- edge</c>: the same wide_mlp load through the gRPC edge (a stub generated from the project's proto, raw
/// tensors, as tritonclient sends them) and through the SDK's grain calls, against one silo running in its own
/// process, as in production (callers are other processes). The SDK, gRPC over one shared HTTP/2 connection,
/// gRPC with the callers spread over 8 connections, and gRPC with a <c>ModelStreamInfer</c> stream per caller are
/// measured in turn, in rounds of short slices; each figure is the mean of its rounds. The CPU time each sample costs the silo and the callers' process is measured too.
/// Writes artifacts/bench/edge.json.
/// </summary>
public sealed class EdgeScenario : IBenchScenario
{
    private const string Model = "wide_mlp";
    private const int Callers = 64;
    private const int Features = 256;
    private const int Connections = 8;
    private const int Rounds = 8;

    public string Name => "edge";

    public string Summary => "64 gRPC callers through the edge vs 64 SDK callers, and the edge's added p50 latency at 1 caller";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        Console.WriteLine($"edge: {Model}, {Environment.ProcessorCount} cores, {options.Seconds:0.##} s per load, the silo in its own process");
        using var redis = await RedisServer.StartAsync();
        var models = Directory.CreateTempSubdirectory("cluster-edge-models-").FullName;
        try
        {
            ModelCopies.Copy(Path.Combine(repositoryRoot, "deploy", "models"), Model, models);
            using var fleet = await SiloFleet.StartAsync(repositoryRoot, redis.ConnectionString, models, 1);
            await using var connection = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId });
            var channels = Enumerable.Range(0, Connections).Select(_ => GrpcChannel.ForAddress(fleet.GrpcAddresses.Single())).ToArray();
            try
            {
                var stubs = channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c)).ToArray();
                await new Measurement(options, connection.Inference, fleet.Processes.Single()).RunAsync(repositoryRoot, stubs);
            }
            finally
            {
                foreach (var channel in channels)
                {
                    channel.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>One path's figures over one slice; CPU time per sample of this process (the callers) and of the silo's.</summary>
    private sealed record PathFigures(LoadResult Load, double CallersCpuMicroseconds, double SiloCpuMicroseconds);

    private sealed class Measurement(BenchOptions options, InferenceClient sdk, Process silo)
    {
        public async Task RunAsync(string repositoryRoot, GRPCInferenceService.GRPCInferenceServiceClient[] stubs)
        {
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

            Task Sdk(int _) => sdk.InferAsync(Model, sdkInputs);
            Task Grpc(int _) => stubs[0].ModelInferAsync(request).ResponseAsync;
            Task GrpcSpread(int caller) => stubs[caller % Connections].ModelInferAsync(request).ResponseAsync;
            await using var streaming = new StreamingCallers(stubs[0], request, Callers);

            // Throughput keeps rising for tens of seconds after start (JIT tiers, batch sizes settling), so after a
            // warm-up of each path (twice, in turn) the four paths are measured in turn, in short slices, round after
            // round, and each figure is the mean over the rounds: a drift over time weighs on all four alike.
            var paths = new Func<int, Task>[] { Sdk, Grpc, GrpcSpread, streaming.CallAsync };
            for (var pass = 0; pass < 2; pass++)
            {
                foreach (var path in paths)
                {
                    await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup * 3).RunAsync(path);
                }
            }

            var slice = options with { Seconds = options.Seconds * 5 / Rounds, WarmupSeconds = 0.5 };
            var rounds = new List<(PathFigures Sdk, PathFigures Grpc, PathFigures Spread, PathFigures Streaming)>();
            for (var round = 1; round <= Rounds; round++)
            {
                rounds.Add((
                    await MeasureAsync($"round {round}: SDK (grain calls)", Callers, Sdk, slice),
                    await MeasureAsync($"round {round}: gRPC edge, one connection", Callers, Grpc, slice),
                    await MeasureAsync($"round {round}: gRPC edge, {Connections} connections", Callers, GrpcSpread, slice),
                    await MeasureAsync($"round {round}: gRPC edge, a stream per caller", Callers, streaming.CallAsync, slice)));
            }

            var sdkSingle = await MeasureAsync("SDK (grain calls)", 1, Sdk, options);
            var grpcSingle = await MeasureAsync("gRPC edge", 1, Grpc, options);

            var results = new EdgeResults
            {
                GrpcSamplesPerSecond = Mean(rounds, r => r.Grpc.Load.SamplesPerSecond),
                SdkSamplesPerSecond = Mean(rounds, r => r.Sdk.Load.SamplesPerSecond),
                GrpcSpreadSamplesPerSecond = Mean(rounds, r => r.Spread.Load.SamplesPerSecond),
                GrpcStreamingSamplesPerSecond = Mean(rounds, r => r.Streaming.Load.SamplesPerSecond),
                GrpcP50Milliseconds = rounds[^1].Grpc.Load.P50Milliseconds,
                GrpcP99Milliseconds = rounds[^1].Grpc.Load.P99Milliseconds,
                SdkP50Milliseconds = rounds[^1].Sdk.Load.P50Milliseconds,
                GrpcConcurrency1P50Microseconds = grpcSingle.Load.P50Microseconds,
                SdkConcurrency1P50Microseconds = sdkSingle.Load.P50Microseconds,
                SdkSiloCpuMicroseconds = Mean(rounds, r => r.Sdk.SiloCpuMicroseconds),
                GrpcSiloCpuMicroseconds = Mean(rounds, r => r.Grpc.SiloCpuMicroseconds),
                GrpcStreamingSiloCpuMicroseconds = Mean(rounds, r => r.Streaming.SiloCpuMicroseconds),
                SdkCallersCpuMicroseconds = Mean(rounds, r => r.Sdk.CallersCpuMicroseconds),
                GrpcCallersCpuMicroseconds = Mean(rounds, r => r.Grpc.CallersCpuMicroseconds),
                Cores = Environment.ProcessorCount,
                Seconds = options.Seconds,
            };
            Console.WriteLine();
            Console.Write(BenchReport.Table(
                ["figure", "value", "unit"],
                [
                    [$"gRPC edge, {Callers} callers, one connection", BenchReport.Number(results.GrpcSamplesPerSecond), "samples/s"],
                    [$"gRPC edge, {Callers} callers, {Connections} connections", BenchReport.Number(results.GrpcSpreadSamplesPerSecond), "samples/s"],
                    [$"gRPC edge, {Callers} callers, a stream each", BenchReport.Number(results.GrpcStreamingSamplesPerSecond), "samples/s"],
                    [$"SDK, {Callers} callers (mean of {Rounds} rounds)", BenchReport.Number(results.SdkSamplesPerSecond), "samples/s"],
                    ["gRPC / SDK, one connection", BenchReport.Number(results.GrpcOverSdk, 3), "x"],
                    [$"gRPC / SDK, {Connections} connections", BenchReport.Number(results.GrpcSpreadOverSdk, 3), "x"],
                    ["gRPC streams / SDK", BenchReport.Number(results.GrpcStreamingOverSdk, 3), "x"],
                    [$"gRPC edge, {Callers} callers p50 / p99", $"{results.GrpcP50Milliseconds:0.###} / {results.GrpcP99Milliseconds:0.###}", "ms"],
                    ["gRPC p50 overhead over SDK, 1 caller", BenchReport.Number(results.GrpcOverheadP50Microseconds), "us"],
                    ["silo CPU per sample, SDK / gRPC / gRPC streams", $"{results.SdkSiloCpuMicroseconds:0.0} / {results.GrpcSiloCpuMicroseconds:0.0} / {results.GrpcStreamingSiloCpuMicroseconds:0.0}", "us"],
                    ["callers' CPU per sample, SDK / gRPC", $"{results.SdkCallersCpuMicroseconds:0.0} / {results.GrpcCallersCpuMicroseconds:0.0}", "us"],
                ]));
            Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "edge.json", results)}");
        }

        private static double Mean<T>(List<T> rounds, Func<T, double> figure) => Math.Round(rounds.Average(figure), 1);

        private async Task<PathFigures> MeasureAsync(string what, int callers, Func<int, Task> call, BenchOptions slice)
        {
            var before = await sdk.GetStatisticsAsync(Model);
            var callersCpu = Environment.CpuUsage.TotalTime;
            var siloCpu = SiloCpu();
            var result = await new ClosedLoopLoad(callers, slice.Warmup, slice.Measure).RunAsync(call);
            callersCpu = Environment.CpuUsage.TotalTime - callersCpu;
            siloCpu = SiloCpu() - siloCpu;
            var after = await sdk.GetStatisticsAsync(Model);
            var served = Math.Max(1, after.InferenceCount - before.InferenceCount);
            var meanBatch = served / (double)Math.Max(1, after.ExecutionCount - before.ExecutionCount);
            var figures = new PathFigures(result, callersCpu.TotalMicroseconds / served, siloCpu.TotalMicroseconds / served);
            Console.WriteLine(
                $"  {what}, {callers} callers: {result.SamplesPerSecond:N0} samples/s, p50 {result.P50Milliseconds:0.###} ms, p99 {result.P99Milliseconds:0.###} ms; " +
                $"with warm-up: mean batch {meanBatch:0.0}, CPU per sample {figures.SiloCpuMicroseconds:0.0} us silo + {figures.CallersCpuMicroseconds:0.0} us callers");
            return figures;
        }

        private TimeSpan SiloCpu()
        {
            silo.Refresh();
            return silo.TotalProcessorTime;
        }
    }
}
