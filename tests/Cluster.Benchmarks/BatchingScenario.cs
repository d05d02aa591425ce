using System.Text.Json.Nodes;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;

namespace Cluster.Benchmarks;

/// <summary>
/// Dynamic batching on <c>wide_mlp</c> (FP32 <c>input</c> [N,256] → <c>logits</c> [N,10], max_batch_size 64):
/// the raw ONNX Runtime ceiling at batch 64, its batch-1 latency and its CPU per sample at batch 1-64; the cluster under 64 closed-loop callers
/// sending one row each, batched and with a max_batch_size 1 copy of the model; one caller's latency and the
/// cluster's overhead over raw ONNX Runtime; and a sweep over the number of callers.
/// </summary>
public sealed class BatchingScenario : IBenchScenario
{
    private const string Model = "wide_mlp";
    private const string UnbatchedModel = "wide_mlp_unbatched";

    /// <summary>A model with next to no compute (int64 ids × 3 + 1), so its load measures the cluster's own per-request cost.</summary>
    private const string CheapModel = "int64_scale";
    private const string InputName = "input";
    private const string OutputName = "logits";
    private const int Features = 256;
    private const int RawBatch = 64;
    private const int Callers = 64;
    private static readonly int[] SweepConcurrency = [1, 2, 4, 8, 16, 32, 64, 128];
    private static readonly DeviceDescriptor Cpu = DeviceDescriptor.Cpu;

    /// <inheritdoc />
    public string Name => "batching";

    /// <inheritdoc />
    public string Summary => $"{Model}: raw ONNX Runtime vs the cluster with and without batching, plus a concurrency sweep";

    /// <inheritdoc />
    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        var models = RepositoryRoot.Models(repositoryRoot);
        Console.WriteLine($"batching: {Model}, {Environment.ProcessorCount} cores, {options.Seconds:0.##} s per load, {options.SweepSeconds:0.##} s per " +
            $"sweep level, {options.WarmupSeconds:0.##} s warm-up");

        var (rawCeiling, rawBatch1, rawCosts) = await MeasureRawAsync(Path.Combine(models, Model, "1", "model.onnx"), options);
        var (batched, meanBatch, unbatched, cheap, single, sweep) = await MeasureClusterAsync(models, options);

        var results = new BatchingResults
        {
            RawSamplesPerSecond = Math.Round(rawCeiling.SamplesPerSecond, 1),
            RawBatch1P50Microseconds = rawBatch1.P50Microseconds,
            BatchedSamplesPerSecond = Math.Round(batched.SamplesPerSecond, 1),
            UnbatchedSamplesPerSecond = Math.Round(unbatched.SamplesPerSecond, 1),
            BatchedP50Milliseconds = batched.P50Milliseconds,
            BatchedP99Milliseconds = batched.P99Milliseconds,
            BatchedMeanBatchSize = Math.Round(meanBatch, 2),
            CheapModelRequestsPerSecond = Math.Round(cheap.SamplesPerSecond, 1),
            Concurrency1P50Microseconds = single.P50Microseconds,
            Cores = Environment.ProcessorCount,
            Seconds = options.Seconds,
            SweepSeconds = options.SweepSeconds,
            WarmupSeconds = options.WarmupSeconds,
            Sweep = [.. sweep.Select(SweepPoint.From)],
            RawCpuPerSample = rawCosts,
        };

        Console.WriteLine();
        Console.Write(SummaryTable(results));
        Console.WriteLine();
        Console.Write(SweepTable(results.Sweep));
        Console.WriteLine();
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "batching.json", results)}");
        Console.WriteLine($"wrote {BenchReport.WriteText(repositoryRoot, "batching.svg", Chart(results.Sweep))}");
    }

    /// <summary>
    /// A tight loop of <see cref="OnnxRuntimeModel.RunBatch"/> on the CPU, no cluster: batch 64 for throughput, batch 1 for latency, and the
    /// CPU per sample at several batch sizes.
    /// </summary>
    private static async Task<(LoadResult Ceiling, LoadResult Batch1, IReadOnlyList<BatchCost> Costs)> MeasureRawAsync(string onnxPath, BenchOptions options)
    {
        using var model = new OnnxRuntimeModel(onnxPath, Cpu);
        string[] outputs = [OutputName];
        TensorData[] batch = [TensorData.FromFloat32(InputName, RandomRows(RawBatch), RawBatch, Features)];
        TensorData[] row = [TensorData.FromFloat32(InputName, RandomRows(1), 1, Features)];

        var ceiling = await new ClosedLoopLoad(1, options.Warmup, options.Measure, samplesPerCall: RawBatch)
            .RunAsync(_ => RunSynchronously(model, batch, outputs));
        Progress($"raw ONNX Runtime, batch {RawBatch}", ceiling);
        var batch1 = await new ClosedLoopLoad(1, options.Warmup, options.Measure)
            .RunAsync(_ => RunSynchronously(model, row, outputs));
        Progress("raw ONNX Runtime, batch 1", batch1);
        var costs = RawBatchCost.Measure(model, size => [TensorData.FromFloat32(InputName, RandomRows(size), size, Features)], outputs,
            TimeSpan.FromSeconds(0.5));
        Console.WriteLine($"  raw ONNX Runtime CPU per sample: {string.Join(", ", costs.Select(c => $"batch {c.BatchSize} {c.CpuMicrosecondsPerSample} us"))}");
        return (ceiling, batch1, costs);
    }

    /// <summary>The model's config.json with max_batch_size 1: every other setting (its intra-op threads) as the batched model's.</summary>
    private static string UnbatchedConfig(string models)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(models, Model, "config.json")))!.AsObject();
        config["max_batch_size"] = 1;
        return config.ToJsonString();
    }

    /// <summary>One in-process silo serving the model batched and unbatched, loaded over its gateway.</summary>
    private static async Task<(LoadResult Batched, double MeanBatch, LoadResult Unbatched, LoadResult Cheap, LoadResult Single,
        List<LoadResult> Sweep)> MeasureClusterAsync(
        string models, BenchOptions options)
    {
        await using var cluster = await BenchCluster.StartAsync(repository =>
        {
            ModelCopies.Copy(models, Model, repository);
            ModelCopies.Copy(models, Model, repository, UnbatchedModel, UnbatchedConfig(models));
            ModelCopies.Copy(models, CheapModel, repository);
        });
        TensorData[] row = [TensorData.FromFloat32(InputName, RandomRows(1), 1, Features)];
        foreach (var model in new[] { Model, UnbatchedModel })
        {
            await CheckServedAsync(cluster, model, row);
        }

        // A freshly started silo and client (JIT tiers, thread pool growth, connections) are slower than a
        // warm one, for tens of seconds; without this, whichever load ran first would pay for it.
        await WarmUpAsync(cluster, row);
        await ClusterLoadAsync(cluster, UnbatchedModel, row, Callers, TimeSpan.Zero, options.Warmup * 2);

        var before = await cluster.Inference.GetStatisticsAsync(Model);
        var batched = await ClusterLoadAsync(cluster, Model, row, Callers, options.Warmup, options.Measure);
        var after = await cluster.Inference.GetStatisticsAsync(Model);
        var meanBatch = (after.InferenceCount - before.InferenceCount) / (double)Math.Max(1, after.ExecutionCount - before.ExecutionCount);
        Progress($"cluster {Model}, {Callers} callers (mean batch {meanBatch:0.0}, warm-up included)", batched);
        var unbatched = await ClusterLoadAsync(cluster, UnbatchedModel, row, Callers, options.Warmup, options.Measure);
        Progress($"cluster {UnbatchedModel}, {Callers} callers", unbatched);
        var cheap = await new ClosedLoopLoad(Callers, options.Warmup, options.Measure)
            .RunAsync(_ => cluster.Inference.InferAsync(CheapModel, [TensorData.FromInt64("ids", new long[Features], 1, Features)]));
        Progress($"cluster {CheapModel} (no real compute), {Callers} callers", cheap);
        var single = await ClusterLoadAsync(cluster, Model, row, 1, options.Warmup, options.Measure);
        Progress($"cluster {Model}, 1 caller", single);

        var sweep = new List<LoadResult>();
        foreach (var concurrency in SweepConcurrency)
        {
            var level = await ClusterLoadAsync(cluster, Model, row, concurrency, options.Warmup, options.SweepMeasure);
            Progress($"sweep {Model}, {concurrency} callers", level);
            sweep.Add(level);
        }

        return (batched, meanBatch, unbatched, cheap, single, sweep);
    }

    /// <summary>
    /// Loads the batched model in 2 s slices until its throughput stops rising (two slices in a row within 5 % of
    /// the best so far), at most 40 s: the process keeps getting faster for tens of seconds after it starts.
    /// </summary>
    private static async Task WarmUpAsync(BenchCluster cluster, TensorData[] row)
    {
        var slice = TimeSpan.FromSeconds(2);
        var best = 0.0;
        var settled = 0;
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromSeconds(40) && settled < 2; elapsed += slice)
        {
            var rate = (await ClusterLoadAsync(cluster, Model, row, Callers, TimeSpan.Zero, slice)).SamplesPerSecond;
            settled = rate < best * 1.05 ? settled + 1 : 0;
            best = Math.Max(best, rate);
            Console.WriteLine($"  warm-up {Model}, {Callers} callers: {rate:N0} samples/s");
        }
    }

    private static Task<LoadResult> ClusterLoadAsync(BenchCluster cluster, string model, TensorData[] row, int callers, TimeSpan warmup, TimeSpan measure) =>
        new ClosedLoopLoad(callers, warmup, measure).RunAsync(_ => cluster.Inference.InferAsync(model, row));

    /// <summary>One request first, so a model the silo failed to load stops the run with the cluster's error.</summary>
    private static async Task CheckServedAsync(BenchCluster cluster, string model, TensorData[] row)
    {
        var response = await cluster.Inference.InferAsync(model, row);
        var logits = response.Output(OutputName);
        if (logits.Shape is not [1, 10])
        {
            throw new InvalidOperationException($"{model} returned {OutputName} of shape [{string.Join(',', logits.Shape)}], expected [1,10].");
        }
    }

    private static Task RunSynchronously(OnnxRuntimeModel model, TensorData[] inputs, string[] outputs)
    {
        model.Run(inputs, outputs);
        return Task.CompletedTask;
    }

    private static float[] RandomRows(int rows)
    {
        var random = new Random(20240601 + rows);
        var values = new float[rows * Features];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static void Progress(string what, LoadResult load) =>
        Console.WriteLine($"  {what,-40} {BenchReport.Number(load.SamplesPerSecond),10} samples/s  p50 {BenchReport.Number(load.P50Milliseconds, 3)} ms  " +
            $"p99 {BenchReport.Number(load.P99Milliseconds, 3)} ms  ({load.Calls} calls)");

    private static string SummaryTable(BatchingResults r) => BenchReport.Table(
        ["figure", "value", "unit"],
        [
            [$"raw ONNX Runtime, batch {RawBatch} (ceiling)", BenchReport.Number(r.RawSamplesPerSecond), "samples/s"],
            ["raw ONNX Runtime, batch 1 p50", BenchReport.Number(r.RawBatch1P50Microseconds), "us"],
            [$"cluster batched, {Callers} callers", BenchReport.Number(r.BatchedSamplesPerSecond), "samples/s"],
            [$"cluster batched, {Callers} callers p50", BenchReport.Number(r.BatchedP50Milliseconds, 3), "ms"],
            [$"cluster batched, {Callers} callers p99", BenchReport.Number(r.BatchedP99Milliseconds, 3), "ms"],
            [$"cluster batched, {Callers} callers mean batch", BenchReport.Number(r.BatchedMeanBatchSize, 1), "samples"],
            [$"cluster, no-compute model, {Callers} callers", BenchReport.Number(r.CheapModelRequestsPerSecond), "requests/s"],
            [$"cluster unbatched (max_batch_size 1), {Callers} callers", BenchReport.Number(r.UnbatchedSamplesPerSecond), "samples/s"],
            ["cluster, 1 caller p50", BenchReport.Number(r.Concurrency1P50Microseconds), "us"],
            ["cluster overhead p50 (1 caller - raw batch 1)", BenchReport.Number(r.OverheadP50Microseconds), "us"],
            ["batched / raw", BenchReport.Number(r.BatchedOverRaw, 3), "x"],
            ["batched / unbatched", BenchReport.Number(r.BatchedOverUnbatched, 3), "x"],
        ]);

    private static string SweepTable(IReadOnlyList<SweepPoint> sweep) => BenchReport.Table(
        ["callers", "samples/s", "p50 ms", "p99 ms"],
        sweep.Select(p => (IReadOnlyList<string>)
            [p.Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), BenchReport.Number(p.SamplesPerSecond),
                BenchReport.Number(p.P50Milliseconds, 3), BenchReport.Number(p.P99Milliseconds, 3)]));

    private static string Chart(IReadOnlyList<SweepPoint> sweep) => SvgChart.Render(
        $"{Model} on the cluster: throughput and p99 latency vs callers ({Environment.ProcessorCount} cores)",
        "concurrent closed-loop callers (log2 scale)",
        [.. sweep.Select(p => (double)p.Concurrency)],
        [
            new ChartPanel("throughput (samples/s)", [.. sweep.Select(p => p.SamplesPerSecond)], "#1f77b4"),
            new ChartPanel("p99 latency (ms)", [.. sweep.Select(p => p.P99Milliseconds)], "#d62728"),
        ]);
}
