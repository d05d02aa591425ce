using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Repository;
using Cluster.Inference.Telemetry;
using Google.Protobuf;
using HdrHistogram;
using StatisticDuration = Cluster.Contracts.Models.StatisticDuration;

namespace Cluster.Benchmarks;

/// <summary>A server the edge scenario loads: its process (for CPU time), one stub per connection and its metrics URL.</summary>
public sealed record EdgeServer(string Name, Process Process, GRPCInferenceService.GRPCInferenceServiceClient[] Stubs, string MetricsAddress);

/// <summary>
/// The edge scenario's measurement. After a warm-up of every path (twice, in turn), the SDK path and the three gRPC
/// paths (one shared HTTP/2 connection, the callers spread over 8 connections, a <c>ModelStreamInfer</c> stream per
/// caller) against the silo and against the peer are measured in turn, in short slices, round after round, and each
/// figure is the mean over the rounds: throughput keeps rising for tens of seconds after start (JIT tiers, batch
/// sizes settling), and a drift over time weighs on every path alike. Each slice also takes the CPU time each
/// sample costs the server and the callers' process, and the bytes the silo's runtime allocated per sample.
/// </summary>
public sealed class EdgeMeasurement(BenchOptions options, InferenceClient sdk, IGrainFactory grains, string modelFolder, EdgeServer silo, EdgeServer peer)
{
    private const int Callers = 64;
    private const int Features = 256;
    private const int Rounds = 8;

    /// <summary>How many of the server's own allocation sites (type and method, the largest first) the console lists after each profile.</summary>
    private const int AllocationSitesShown = 12;

    /// <summary>The process's exact allocated bytes on the silo's and the peer's metrics page (<see cref="ProcessGauges.AllocatedBytes"/>).</summary>
    internal const string AllocatedMetric = ProcessGauges.AllocatedBytesName;
    /// <summary>The peer's count of batches run, on its metrics page.</summary>
    internal const string PeerBatchesMetric = "peer_batches_total";
    internal const string PeerRunSecondsMetric = "peer_run_seconds_total";

    private static readonly HttpClient Http = new();

    /// <summary>The model's <c>intra_op_threads</c>, which the silo's and the peer's sessions use, and so the raw run's.</summary>
    private readonly int _intraOpThreads = ModelConfigReader.Read(Path.Combine(modelFolder, "config.json")).IntraOpThreads;

    /// <summary>One path: a label, its call, and the server it loads.</summary>
    private sealed record EdgePath(string Label, Func<int, Task> Call, EdgeServer Server);

    /// <summary>
    /// One path's figures over one slice: per sample, CPU time of the callers' process and of the server, and the server's allocation;
    /// the server's mean batch and its ONNX Runtime run time per sample (the run's wall time over the batch's samples); for the silo,
    /// the mean time a request spent in it, from arrival at its replica to its answer (NaN for the peer).
    /// </summary>
    private sealed record PathFigures(LoadResult Load, double CallersCpuMicroseconds, double ServerCpuMicroseconds, double AllocatedBytes,
        double ServerContextSwitches, double MeanBatch, double RunMicrosecondsPerSample, double InSiloMicroseconds);

    /// <summary>Measures every path and writes artifacts/bench/edge.json.</summary>
    public async Task RunAsync(string repositoryRoot)
    {
        var row = new float[Features];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = MathF.Sin(i);
        }

        TensorData[] sdkInputs = [TensorData.FromFloat32("input", row, 1, Features)];
        var request = new ModelInferRequest { ModelName = EdgeScenario.Model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32" };
        input.Shape.Add([1, Features]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(row.AsSpan())));
        var probe = await silo.Stubs[0].ModelInferAsync(request);
        var outputBytes = probe.RawOutputContents.Sum(c => c.Length);

        await using var siloStreams = new StreamingCallers(silo.Stubs[0], request, Callers);
        await using var peerStreams = new StreamingCallers(peer.Stubs[0], request, Callers);
        var sdkPath = new EdgePath("SDK (grain calls)", _ => sdk.InferAsync(EdgeScenario.Model, sdkInputs), silo);
        var siloPaths = GrpcPaths(silo, request, siloStreams);
        var peerPaths = GrpcPaths(peer, request, peerStreams);
        EdgePath[] paths = [sdkPath, .. siloPaths, .. peerPaths];
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var path in paths)
            {
                await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup * 3).RunAsync(path.Call);
            }
        }

        var slice = options with { Seconds = options.Seconds * 5 / Rounds, WarmupSeconds = 0.5 };
        var rounds = new List<PathFigures[]>();
        for (var round = 1; round <= Rounds; round++)
        {
            var figures = new PathFigures[paths.Length];
            for (var p = 0; p < paths.Length; p++)
            {
                figures[p] = await MeasureAsync($"round {round}: {paths[p].Label}", Callers, paths[p], slice);
            }

            rounds.Add(figures);
        }

        var siloOrigins = await AllocationOriginsAsync(siloPaths[0]);
        var peerOrigins = await AllocationOriginsAsync(peerPaths[0]);
        var sdkSingle = await MeasureAsync("SDK (grain calls)", 1, sdkPath, options);
        var grpcSingle = await MeasureAsync(siloPaths[0].Label, 1, siloPaths[0], options);
        var peerSingle = await MeasureAsync(peerPaths[0].Label, 1, peerPaths[0], options);
        var replica = grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(EdgeScenario.Model, 1, 0).ToString());
        var grainCall = await MeasureAsync("empty grain call to the replica", 1, new EdgePath("", _ => replica.GetGenerationStatisticsAsync(), silo), options);
        var raw = RawBatchOneMicroseconds(sdkInputs, [.. probe.Outputs.Select(o => o.Name)]);

        // A round without the figure (NaN) is left out of its mean.
        double Mean(int path, Func<PathFigures, double> figure, int digits = 1) =>
            Math.Round(rounds.Select(r => figure(r[path])).Where(f => !double.IsNaN(f)).DefaultIfEmpty(double.NaN).Average(), digits);
        EdgePathFigures PerPath(int first, Func<PathFigures, double> figure, int digits = 1) => new()
        {
            Grpc = Mean(first, figure, digits),
            GrpcSpread = Mean(first + 1, figure, digits),
            GrpcStreaming = Mean(first + 2, figure, digits),
        };

        const int SdkIndex = 0, SiloIndex = 1, PeerIndex = 4;
        var results = new EdgeResults
        {
            SdkSamplesPerSecond = Mean(SdkIndex, f => f.Load.SamplesPerSecond),
            GrpcSamplesPerSecond = Mean(SiloIndex, f => f.Load.SamplesPerSecond),
            GrpcSpreadSamplesPerSecond = Mean(SiloIndex + 1, f => f.Load.SamplesPerSecond),
            GrpcStreamingSamplesPerSecond = Mean(SiloIndex + 2, f => f.Load.SamplesPerSecond),
            PeerSamplesPerSecond = PerPath(PeerIndex, f => f.Load.SamplesPerSecond),
            GrpcP50Milliseconds = rounds[^1][SiloIndex].Load.P50Milliseconds,
            GrpcP99Milliseconds = rounds[^1][SiloIndex].Load.P99Milliseconds,
            PeerP50Milliseconds = rounds[^1][PeerIndex].Load.P50Milliseconds,
            SdkP50Milliseconds = rounds[^1][SdkIndex].Load.P50Milliseconds,
            GrpcConcurrency1P50Microseconds = grpcSingle.Load.P50Microseconds,
            SdkConcurrency1P50Microseconds = sdkSingle.Load.P50Microseconds,
            RawBatch1P50Microseconds = raw,
            GrainCallP50Microseconds = grainCall.Load.P50Microseconds,
            SdkConcurrency1SiloRunMicroseconds = Math.Round(sdkSingle.RunMicrosecondsPerSample, 1),
            SdkConcurrency1InSiloMicroseconds = Math.Round(sdkSingle.InSiloMicroseconds, 1),
            PeerConcurrency1P50Microseconds = peerSingle.Load.P50Microseconds,
            PeerConcurrency1RunMicroseconds = Math.Round(peerSingle.RunMicrosecondsPerSample, 1),
            SdkSiloCpuMicroseconds = Mean(SdkIndex, f => f.ServerCpuMicroseconds),
            SiloCpuMicroseconds = PerPath(SiloIndex, f => f.ServerCpuMicroseconds),
            PeerCpuMicroseconds = PerPath(PeerIndex, f => f.ServerCpuMicroseconds),
            SiloAllocatedBytes = PerPath(SiloIndex, f => f.AllocatedBytes),
            PeerAllocatedBytes = PerPath(PeerIndex, f => f.AllocatedBytes),
            SiloMeanBatch = PerPath(SiloIndex, f => f.MeanBatch),
            PeerMeanBatch = PerPath(PeerIndex, f => f.MeanBatch),
            SiloRunMicroseconds = PerPath(SiloIndex, f => f.RunMicrosecondsPerSample),
            PeerRunMicroseconds = PerPath(PeerIndex, f => f.RunMicrosecondsPerSample),
            SiloContextSwitches = PerPath(SiloIndex, f => f.ServerContextSwitches, digits: 3),
            PeerContextSwitches = PerPath(PeerIndex, f => f.ServerContextSwitches, digits: 3),
            SdkSiloAllocatedBytes = Mean(SdkIndex, f => f.AllocatedBytes),
            AllocationReadingsLeftOut = rounds.Sum(r => r.Count(f => double.IsNaN(f.AllocatedBytes))),
            TensorBytes = Features * sizeof(float) + outputBytes,
            SiloAllocationByOrigin = siloOrigins,
            PeerAllocationByOrigin = peerOrigins,
            SdkCallersCpuMicroseconds = Mean(SdkIndex, f => f.CallersCpuMicroseconds),
            GrpcCallersCpuMicroseconds = Mean(SiloIndex, f => f.CallersCpuMicroseconds),
            Cores = Environment.ProcessorCount,
            IntraOpThreads = _intraOpThreads,
            ServerGen0Budget = ServingRuntime.Gen0Budget,
            ServerSpinLimit = ServingRuntime.SpinLimit,
            Seconds = options.Seconds,
        };
        Console.WriteLine();
        Console.Write(Table(results));
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "edge.json", results)}");
    }

    private static EdgePath[] GrpcPaths(EdgeServer server, ModelInferRequest request, StreamingCallers streams) =>
    [
        new($"gRPC {server.Name}, one connection", _ => server.Stubs[0].ModelInferAsync(request).ResponseAsync, server),
        new($"gRPC {server.Name}, {EdgeScenario.Connections} connections", caller => server.Stubs[caller % EdgeScenario.Connections].ModelInferAsync(request)
            .ResponseAsync, server),
        new($"gRPC {server.Name}, a stream per caller", streams.CallAsync, server),
    ];

    /// <summary>The server's bytes per sample by origin while <paramref name="path"/>'s load runs (<see cref="AllocationProfile"/>).</summary>
    private async Task<Dictionary<string, double>> AllocationOriginsAsync(EdgePath path)
    {
        var (origins, serverSites) = await AllocationProfile.MeasureAsync(path.Server.Process.Id,
            async () => (await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Measure).RunAsync(path.Call)).Calls);
        var sampled = origins.Values.Sum();
        Console.WriteLine($"  {path.Label}, {Callers} callers: {sampled:0} B per sample in the runtime's allocation samples: " +
            string.Join(", ", origins.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value:0}")));
        foreach (var (site, bytes) in serverSites.OrderByDescending(s => s.Value).Take(AllocationSitesShown))
        {
            Console.WriteLine($"    {bytes,6:0} B  {site}");
        }

        return origins.ToDictionary(o => o.Key, o => Math.Round(o.Value));
    }

    /// <summary>The mean of a statistic's durations between two readings, in microseconds.</summary>
    private static double MeanMicroseconds(StatisticDuration after, StatisticDuration before) =>
        (after.Nanoseconds - before.Nanoseconds) / 1000.0 / Math.Max(1, after.Count - before.Count);

    private static string Table(EdgeResults r) => BenchReport.Table(
        ["figure", "silo", "peer", "silo / peer"],
        [
            [$"gRPC, {Callers} callers, one connection (samples/s)", BenchReport.Number(r.GrpcSamplesPerSecond),
                BenchReport.Number(r.PeerSamplesPerSecond.Grpc), BenchReport.Number(r.GrpcOverPeer, 3)],
            [$"gRPC, {Callers} callers, {EdgeScenario.Connections} connections (samples/s)", BenchReport.Number(r.GrpcSpreadSamplesPerSecond),
                BenchReport.Number(r.PeerSamplesPerSecond.GrpcSpread), BenchReport.Number(r.GrpcSpreadOverPeer, 3)],
            [$"gRPC, {Callers} callers, a stream each (samples/s)", BenchReport.Number(r.GrpcStreamingSamplesPerSecond),
                BenchReport.Number(r.PeerSamplesPerSecond.GrpcStreaming), BenchReport.Number(r.GrpcStreamingOverPeer, 3)],
            ["server CPU per sample, one connection (us)", BenchReport.Number(r.SiloCpuMicroseconds.Grpc, 1), BenchReport.Number(r.PeerCpuMicroseconds.Grpc, 1),
                BenchReport.Number(r.SiloCpuOverPeer.Grpc, 3)],
            [$"server CPU per sample, {EdgeScenario.Connections} connections (us)", BenchReport.Number(r.SiloCpuMicroseconds.GrpcSpread, 1),
                BenchReport.Number(r.PeerCpuMicroseconds.GrpcSpread, 1), BenchReport.Number(r.SiloCpuOverPeer.GrpcSpread, 3)],
            ["server CPU per sample, streams (us)", BenchReport.Number(r.SiloCpuMicroseconds.GrpcStreaming, 1),
                BenchReport.Number(r.PeerCpuMicroseconds.GrpcStreaming, 1), BenchReport.Number(r.SiloCpuOverPeer.GrpcStreaming, 3)],
            ["mean batch, one connection", BenchReport.Number(r.SiloMeanBatch.Grpc, 1), BenchReport.Number(r.PeerMeanBatch.Grpc, 1), ""],
            ["ONNX Runtime run per sample under load, one connection (us)", BenchReport.Number(r.SiloRunMicroseconds.Grpc, 1),
                BenchReport.Number(r.PeerRunMicroseconds.Grpc, 1), BenchReport.Number(r.SiloRunOverPeer.Grpc, 3)],
            ["ONNX Runtime run per sample under load, streams (us)", BenchReport.Number(r.SiloRunMicroseconds.GrpcStreaming, 1),
                BenchReport.Number(r.PeerRunMicroseconds.GrpcStreaming, 1), BenchReport.Number(r.SiloRunOverPeer.GrpcStreaming, 3)],
            [$"SDK, {Callers} callers (samples/s); gRPC / SDK", BenchReport.Number(r.SdkSamplesPerSecond), "", BenchReport.Number(r.GrpcOverSdk, 3)],
            ["bytes allocated per sample, one connection", BenchReport.Number(r.SiloAllocatedBytes.Grpc), BenchReport.Number(r.PeerAllocatedBytes.Grpc),
                BenchReport.Number(r.SiloAllocationOverPeer.Grpc, 3)],
            [$"bytes allocated per sample, {EdgeScenario.Connections} connections", BenchReport.Number(r.SiloAllocatedBytes.GrpcSpread),
                BenchReport.Number(r.PeerAllocatedBytes.GrpcSpread), BenchReport.Number(r.SiloAllocationOverPeer.GrpcSpread, 3)],
            ["bytes allocated per sample, streams", BenchReport.Number(r.SiloAllocatedBytes.GrpcStreaming),
                BenchReport.Number(r.PeerAllocatedBytes.GrpcStreaming), BenchReport.Number(r.SiloAllocationOverPeer.GrpcStreaming, 3)],
            ["silo bytes allocated per sample, SDK; tensor bytes", BenchReport.Number(r.SdkSiloAllocatedBytes), $"tensors {r.TensorBytes}", ""],
            ["1 caller p50: SDK / gRPC / raw batch-1 run (us)", $"{r.SdkConcurrency1P50Microseconds:0} / {r.GrpcConcurrency1P50Microseconds:0} " +
                $"/ {r.RawBatch1P50Microseconds:0}", $"gRPC {r.PeerConcurrency1P50Microseconds:0}", $"SDK overhead {r.SdkOverheadP50Microseconds:0}"],
            ["1 caller p50: empty grain call to the replica (us)", BenchReport.Number(r.GrainCallP50Microseconds), "",
                $"SDK overhead beyond it {r.SdkOverheadBeyondGrainCallP50Microseconds:0}"],
            ["1 caller, mean: batch-1 run in the server / SDK request in the silo (us)",
                $"{r.SdkConcurrency1SiloRunMicroseconds:0} / {r.SdkConcurrency1InSiloMicroseconds:0}", $"run {r.PeerConcurrency1RunMicroseconds:0}",
                $"run beyond raw {r.SdkRunBeyondRawMicroseconds:0}; outside the silo {r.SdkOutsideSiloMicroseconds:0}"],
        ]);

    private async Task<PathFigures> MeasureAsync(string what, int callers, EdgePath path, BenchOptions slice)
    {
        var isSilo = path.Server == silo;
        long calls = 0;
        async Task Counted(int caller)
        {
            await path.Call(caller);
            Interlocked.Increment(ref calls);
        }

        var before = isSilo ? await sdk.GetStatisticsAsync(EdgeScenario.Model) : null;
        var allocated = await MetricAsync(path.Server, AllocatedMetric);
        var peerBatches = isSilo ? 0 : await MetricAsync(path.Server, PeerBatchesMetric);
        var peerRun = isSilo ? 0 : await MetricAsync(path.Server, PeerRunSecondsMetric);
        var callersCpu = Environment.CpuUsage.TotalTime;
        var serverCpu = ProcessCounters.CpuTime(path.Server.Process);
        var switches = ProcessCounters.ContextSwitches(path.Server.Process);
        var result = await new ClosedLoopLoad(callers, slice.Warmup, slice.Measure).RunAsync(Counted);
        callersCpu = Environment.CpuUsage.TotalTime - callersCpu;
        serverCpu = ProcessCounters.CpuTime(path.Server.Process) - serverCpu;
        var switched = ProcessCounters.SwitchesBetween(switches, ProcessCounters.ContextSwitches(path.Server.Process));
        allocated = await MetricAsync(path.Server, AllocatedMetric) - allocated;
        peerBatches = isSilo ? 0 : await MetricAsync(path.Server, PeerBatchesMetric) - peerBatches;
        peerRun = isSilo ? 0 : await MetricAsync(path.Server, PeerRunSecondsMetric) - peerRun;
        var served = Math.Max(1, calls);

        // A reading that dropped (the GC gave a heap up during the slice) says nothing of the slice: NaN, left out of the means.
        var allocatedPerSample = allocated >= 0 ? allocated / served : double.NaN;
        var meanBatch = served / Math.Max(1, peerBatches);
        var runPerBatch = peerRun * 1e6 / Math.Max(1, peerBatches);
        var batch = isSilo ? "" : $"mean batch {meanBatch:0.0}, run {runPerBatch:0} us per batch, {Allocation(allocatedPerSample)}, ";
        var inSilo = double.NaN;
        if (before is not null)
        {
            var after = await sdk.GetStatisticsAsync(EdgeScenario.Model);
            meanBatch = (after.InferenceCount - before.InferenceCount) / (double)Math.Max(1, after.ExecutionCount - before.ExecutionCount);
            // Each request is charged its batch's run, as Triton counts it: the mean per request is the mean run.
            runPerBatch = MeanMicroseconds(after.ComputeInfer, before.ComputeInfer);
            inSilo = MeanMicroseconds(after.Success, before.Success);
            batch = $"mean batch {meanBatch:0.0}, {Allocation(allocatedPerSample)}, " +
                $"in the silo per request {inSilo:0} us (queue {MeanMicroseconds(after.Queue, before.Queue):0}, compute {runPerBatch:0}), ";
        }

        var figures = new PathFigures(result, callersCpu.TotalMicroseconds / served, serverCpu.TotalMicroseconds / served, allocatedPerSample,
            switched / (double)served, meanBatch, runPerBatch / Math.Max(1, meanBatch), inSilo);
        Console.WriteLine(
            $"  {what}, {callers} callers: {result.SamplesPerSecond:N0} samples/s, p50 {result.P50Milliseconds:0.###} ms, p99 {result.P99Milliseconds:0.###} " +
                "ms; " +
            $"with warm-up: {batch}CPU per sample {figures.ServerCpuMicroseconds:0.0} us {path.Server.Name} + {figures.CallersCpuMicroseconds:0.0} us " +
            "callers, " +
            $"{figures.ServerContextSwitches:0.00} context switches per sample in the {path.Server.Name}");
        return figures;
    }

    private static string Allocation(double perSample) => double.IsNaN(perSample) ? "allocation unread (the GC gave a heap up)" : $"{perSample:0} B allocated";

    /// <summary>The median of the model's batch-1 run in a session of this process opened as the silo opens its own.</summary>
    private double RawBatchOneMicroseconds(TensorData[] inputs, string[] outputs)
    {
        using var model = new OnnxRuntimeModel(Path.Combine(modelFolder, "1", "model.onnx"), DeviceDescriptor.Cpu, _intraOpThreads);
        var histogram = new LongHistogram(ClosedLoopLoad.HighestLatencyMicroseconds, 3);
        var warmupEnd = Stopwatch.GetTimestamp() + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var end = warmupEnd + (long)(options.Measure.TotalSeconds * Stopwatch.Frequency);
        for (var now = Stopwatch.GetTimestamp(); now < end; now = Stopwatch.GetTimestamp())
        {
            model.Run(inputs, outputs);
            if (now >= warmupEnd)
            {
                histogram.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(now).TotalMicroseconds));
            }
        }

        var p50 = histogram.GetValueAtPercentile(50);
        Console.WriteLine($"  raw batch-1 run, this process: p50 {p50} us");
        return p50;
    }

    /// <summary>The server's allocated bytes so far, from the runtime's counter on its metrics page.</summary>
    private static async Task<double> MetricAsync(EdgeServer server, string metric)
    {
        foreach (var line in (await Http.GetStringAsync(server.MetricsAddress)).Split('\n'))
        {
            if (line.StartsWith(metric, StringComparison.Ordinal))
            {
                // name{labels} value [timestamp]
                var value = line[(line.IndexOf(' ', Math.Max(0, line.IndexOf('}', StringComparison.Ordinal))) + 1)..].Split(' ')[0];
                return double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{server.MetricsAddress} has no {metric}.");
    }
}
