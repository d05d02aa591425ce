using System.Diagnostics;
using System.Runtime.InteropServices;
using Cluster.Contracts.Errors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Generation;
using Cluster.Inference.Repository;
using HdrHistogram;
using Microsoft.ML.Tokenizers;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- generation</c>: the demo decoder <c>tiny_gpt</c> on one <see cref="GenerationEngine"/> over an
/// <see cref="OnnxDecoderRunner"/> on the CPU, its passes on a <see cref="DeviceExecutor"/> thread as in the
/// silo, under 32 closed-loop callers; the same requests served by each schedule in turn (continuous, static,
/// sequential), each after its own warm-up. Tokens, time to first token and inter-token latency are measured
/// at the callers; the engine's counters are differenced over the same window. Then the OpenAI streaming endpoint
/// against the SDK on a single-silo cluster (<see cref="OpenAiStreamingComparison"/>). Writes
/// artifacts/bench/generation.json and generation.svg; then runs the code-completion workload
/// (<see cref="PrefixCachingScenario"/>, its own generation-prefix.json).
/// </summary>
public sealed class GenerationScenario : IBenchScenario
{
    private const int Callers = 32;
    internal const int WorkloadSize = 4096;
    internal const int WorkloadSeed = 20250601;
    private const double DefaultSeconds = 20;
    private const double DefaultWarmupSeconds = 10;
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(10);
    private static readonly SchedulePolicy[] Policies = [SchedulePolicy.Continuous, SchedulePolicy.Static, SchedulePolicy.Sequential];

    /// <inheritdoc />
    public string Name => "generation";

    /// <inheritdoc />
    public string Summary => $"{DemoDecoder.Name}: tokens/s, TTFT and ITL of continuous vs static vs sequential batching, {Callers} callers";

    /// <inheritdoc />
    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        var measure = TimeSpan.FromSeconds(options.SecondsGiven ? options.Seconds : DefaultSeconds);
        var warmup = TimeSpan.FromSeconds(options.WarmupGiven ? options.WarmupSeconds : DefaultWarmupSeconds);
        var folder = Directory.CreateTempSubdirectory("generation-bench-");
        try
        {
            DemoDecoder.Write(folder.FullName);
            var modelFolder = Path.Combine(folder.FullName, DemoDecoder.Name);
            var versionFolder = Path.Combine(modelFolder, "1");
            var config = ModelConfigReader.Read(Path.Combine(modelFolder, "config.json"));
            var generation = config.Generation ?? throw new InvalidOperationException($"{DemoDecoder.Name}'s config has no generation section.");
            var settings = GenerationSettingsResolver.Resolve(generation, versionFolder, DeviceDescriptor.Cpu.MemoryTotalBytes);
            var tokenizer = DecoderTokenizer.Load(versionFolder, generation.Tokenizer.Length > 0 ? generation.Tokenizer : null);
            var jobs = GenerationWorkload.Create(WorkloadSize, WorkloadSeed);
            var onnxPath = Path.Combine(versionFolder, "model.onnx");
            Console.WriteLine(
                $"generation: {DemoDecoder.Name}, {Callers} callers, " +
                $"prompts {GenerationWorkload.MinPromptTokens}-{GenerationWorkload.MaxPromptTokens} tokens, " +
                $"max_tokens {GenerationWorkload.MinMaxTokens}-{GenerationWorkload.MaxMaxTokens} (log-uniform), {Environment.ProcessorCount} cores, " +
                $"intra-op threads {(config.IntraOpThreads == 0 ? "all cores" : config.IntraOpThreads)}, {warmup.TotalSeconds:0.##} s warm-up " +
                    $"+ {measure.TotalSeconds:0.##} s per schedule");
            Console.WriteLine(
                $"  settings: kv cache {settings.KvCacheBytes >> 20} MiB, max {settings.MaxRunningSequences} running, {settings.MaxStepTokens} step tokens, " +
                $"block {settings.BlockTokens} tokens, context {settings.ContextLength}, max wait {settings.MaxWait.TotalSeconds:0.#} s");

            var figures = new List<ScheduleFigures>();
            foreach (var policy in Policies)
            {
                var run = await MeasureAsync(onnxPath, config.IntraOpThreads, tokenizer, settings with { Policy = policy }, jobs, warmup, measure);
                Progress(run);
                figures.Add(run);
            }

            Console.WriteLine($"  OpenAI streaming endpoint against the SDK, one silo, {Callers} streams:");
            var openAi = await OpenAiStreamingComparison.MeasureAsync(jobs, tokenizer, Callers, warmup, measure);
            var costs = GenerationCostProbe.Measure(onnxPath, config.IntraOpThreads, jobs.Average(j => j.PromptTokens.Length), jobs.Average(j => j.MaxTokens));
            var continuous = figures[0];
            var results = new GenerationResults
            {
                ModelCosts = costs,
                OpenAiStreaming = openAi,
                ContinuousTokensPerSecond = continuous.TokensPerSecond,
                StaticTokensPerSecond = figures[1].TokensPerSecond,
                SequentialTokensPerSecond = figures[2].TokensPerSecond,
                TtftP50Milliseconds = continuous.TtftP50Milliseconds,
                TtftP99Milliseconds = continuous.TtftP99Milliseconds,
                ItlP50Milliseconds = continuous.ItlP50Milliseconds,
                ItlP99Milliseconds = continuous.ItlP99Milliseconds,
                StepOverheadFraction = continuous.StepOverheadFraction,
                KvBytesCopiedPerToken = continuous.KvBytesCopiedPerToken,
                PaddingFraction = continuous.PaddingFraction,
                Preemptions = continuous.Preemptions,
                MeanRunningSequences = continuous.MeanRunningSequences,
                TokensPerStep = continuous.TokensPerStep,
                Schedules = figures,
                Model = DemoDecoder.Name,
                Callers = Callers,
                Cores = Environment.ProcessorCount,
                OperatingSystem = RuntimeInformation.OSDescription,
                Architecture = RuntimeInformation.ProcessArchitecture.ToString(),
                Runtime = RuntimeInformation.FrameworkDescription,
                IntraOpThreads = config.IntraOpThreads,
                Seconds = measure.TotalSeconds,
                WarmupSeconds = warmup.TotalSeconds,
            };

            Console.WriteLine();
            Console.Write(Table(results));
            Console.WriteLine();
            Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "generation.json", results)}");
            Console.WriteLine($"wrote {BenchReport.WriteText(repositoryRoot, "generation.svg", Chart(results))}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        Console.WriteLine();
        await new PrefixCachingScenario().RunAsync(options, repositoryRoot);
    }

    /// <summary>
    /// One schedule: a fresh runner (its resident cache belongs to one engine), the engine's loop on the thread
    /// pool and its passes on a device thread, the callers through warm-up and window, then every request still
    /// open cancelled and the loop stopped before the runner is disposed.
    /// </summary>
    private static async Task<ScheduleFigures> MeasureAsync(
        string onnxPath, int intraOpThreads, Tokenizer tokenizer, GenerationSettings settings, GenerationJob[] jobs, TimeSpan warmup, TimeSpan measure)
    {
        using var runner = new OnnxDecoderRunner(onnxPath, DeviceDescriptor.Cpu, intraOpThreads);
        using var executor = new DeviceExecutor($"cpu:0 {settings.Policy}");

        // The silo's warm-up: one prefill and one decode, so the first measured steps do not pay for ONNX Runtime's first runs.
        await executor.RunAsync(() => runner.Run([new StepRow(-1, new[] { 0, 1, 2, 3 }, 0, true)]));
        await executor.RunAsync(() => runner.Run([new StepRow(-1, new[] { 4 }, 4, true)]));

        var profile = new StepProfile();
        var engine = new GenerationEngine(runner, tokenizer, settings, TimeProvider.System, profile.Wrap(executor));
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => engine.RunAsync(stop.Token));

        var window = new Window(Stopwatch.GetTimestamp() + Ticks(warmup), measure);
        using var cut = new CancellationTokenSource(warmup + measure);
        var next = -1;
        var callers = new Task<CallerFigures>[Callers];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(() => CallerAsync(engine, jobs, () => Interlocked.Increment(ref next), window, cut.Token));
        }

        var observed = await ObserveAsync(engine, profile, window);
        var merged = new CallerFigures();
        foreach (var caller in await Task.WhenAll(callers))
        {
            merged.Add(caller);
        }

        await stop.CancelAsync();
        await loop;
        engine.Stop();

        var engineWindow = observed.Engine;
        var steps = Math.Max(1, engineWindow.Steps);
        return new ScheduleFigures
        {
            Schedule = settings.Policy.ToString().ToLowerInvariant(),
            TokensPerSecond = Math.Round(merged.Tokens / measure.TotalSeconds, 1),
            RequestsCompleted = merged.Completed,
            RequestsFailed = merged.Failed,
            TtftP50Milliseconds = Milliseconds(merged.Ttft, 50),
            TtftP99Milliseconds = Milliseconds(merged.Ttft, 99),
            ItlP50Milliseconds = Milliseconds(merged.Itl, 50),
            ItlP99Milliseconds = Milliseconds(merged.Itl, 99),
            StepOverheadFraction = Math.Round(engineWindow.StepOverheadFraction, 4),
            KvBytesCopiedPerToken = Math.Round(engineWindow.KvBytesCopiedPerToken, 1),
            PaddingFraction = Math.Round(engineWindow.PaddingFraction, 4),
            Preemptions = engineWindow.Preemptions,
            MeanRunningSequences = Math.Round(observed.MeanRunning, 2),
            TokensPerStep = Math.Round(engineWindow.GeneratedTokens / (double)steps, 2),
            FedTokensPerStep = Math.Round(engineWindow.FedTokens / (double)steps, 1),
            Steps = engineWindow.Steps,
            MeanStepMilliseconds = Math.Round(engineWindow.StepTime.TotalMilliseconds / steps, 3),
            StepBreakdown = observed.Profile.PerStep(engineWindow.StepTime, steps),
        };
    }

    /// <summary>
    /// One closed-loop caller: submits the next request of the shared sequence as soon as its previous one
    /// ends, and records what arrives inside the window. Requests still open at the window's end are cancelled.
    /// </summary>
    private static async Task<CallerFigures> CallerAsync(GenerationEngine engine, GenerationJob[] jobs, Func<int> next, Window window, CancellationToken cut)
    {
        var figures = new CallerFigures();
        while (!cut.IsCancellationRequested)
        {
            var job = jobs[next() % jobs.Length];
            var last = Stopwatch.GetTimestamp();
            var first = true;
            try
            {
                await foreach (var update in engine.Submit(job, cut).ReadAllAsync())
                {
                    var now = Stopwatch.GetTimestamp();

                    // The end event of a cancelled request carries no token.
                    if (update.TokenId < 0)
                    {
                        continue;
                    }

                    if (window.Contains(now))
                    {
                        figures.Tokens++;
                        (first ? figures.Ttft : figures.Itl).RecordValue(Microseconds(last, now));
                        if (update.FinishReason is not null)
                        {
                            figures.Completed++;
                        }
                    }

                    first = false;
                    last = now;
                }
            }
            catch (QueueFullException)
            {
                // Refused after waiting max_wait for a place: the caller sends its next request, as a client would.
                figures.Failed += window.Contains(Stopwatch.GetTimestamp()) ? 1 : 0;
            }
        }

        return figures;
    }

    /// <summary>The engine's counters and the step profile differenced over the window, and the running batch's size sampled through it.</summary>
    private static async Task<(GenerationStatistics Engine, StepTotals Profile, double MeanRunning)> ObserveAsync(GenerationEngine engine, StepProfile profile,
        Window window)
    {
        await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), window.Start));
        var engineBefore = engine.Statistics();
        var profileBefore = profile.Totals();
        long samples = 0, running = 0;
        while (Stopwatch.GetTimestamp() < window.End)
        {
            running += engine.RunningCount;
            samples++;
            await Task.Delay(SampleEvery);
        }

        var engineAfter = engine.Statistics();
        var profileAfter = profile.Totals();
        var delta = engineAfter with
        {
            Steps = engineAfter.Steps - engineBefore.Steps,
            StepTime = engineAfter.StepTime - engineBefore.StepTime,
            RunTime = engineAfter.RunTime - engineBefore.RunTime,
            FedTokens = engineAfter.FedTokens - engineBefore.FedTokens,
            GeneratedTokens = engineAfter.GeneratedTokens - engineBefore.GeneratedTokens,
            KvBytesCopied = engineAfter.KvBytesCopied - engineBefore.KvBytesCopied,
            PaddedSlots = engineAfter.PaddedSlots - engineBefore.PaddedSlots,
            TotalSlots = engineAfter.TotalSlots - engineBefore.TotalSlots,
            Preemptions = engineAfter.Preemptions - engineBefore.Preemptions,
        };
        return (delta, profileAfter - profileBefore, running / (double)Math.Max(1, samples));
    }

    private static void Progress(ScheduleFigures f) =>
        Console.WriteLine(
            $"  {f.Schedule,-10} {BenchReport.Number(f.TokensPerSecond, 1),9} tokens/s  {f.RequestsCompleted,4} requests ({f.RequestsFailed} failed)  " +
            $"running {f.MeanRunningSequences:0.0}  TTFT p50 {f.TtftP50Milliseconds:0.#} ms p99 {f.TtftP99Milliseconds:0.#} ms  ITL " +
                $"p50 {f.ItlP50Milliseconds:0.##} ms p99 {f.ItlP99Milliseconds:0.##} ms  " +
            $"step {f.MeanStepMilliseconds:0.##} ms, overhead {f.StepOverheadFraction:P1}, padding {f.PaddingFraction:P1}");

    private static string Table(GenerationResults r) =>
        BenchReport.Table(
            ["schedule", "tokens/s", "running", "TTFT p50/p99 ms", "ITL p50/p99 ms", "step ms", "overhead", "padding"],
            r.Schedules.Select(f => (IReadOnlyList<string>)
            [
                f.Schedule,
                BenchReport.Number(f.TokensPerSecond, 1),
                BenchReport.Number(f.MeanRunningSequences, 1),
                $"{BenchReport.Number(f.TtftP50Milliseconds, 1)} / {BenchReport.Number(f.TtftP99Milliseconds, 1)}",
                $"{BenchReport.Number(f.ItlP50Milliseconds, 2)} / {BenchReport.Number(f.ItlP99Milliseconds, 2)}",
                BenchReport.Number(f.MeanStepMilliseconds, 2),
                BenchReport.Number(f.StepOverheadFraction, 3),
                BenchReport.Number(f.PaddingFraction, 3),
            ])) +
        Environment.NewLine +
        BenchReport.Table(
            ["figure", "value", "target"],
            [
                ["continuous / static", BenchReport.Number(r.ContinuousOverStatic, 2), ">= 2"],
                ["continuous / sequential", BenchReport.Number(r.ContinuousOverSequential, 2), ">= 5"],
                ["OpenAI streaming / SDK tokens/s", BenchReport.Number(r.OpenAiOverSdkTokensPerSecond, 3), ">= 0.85"],
                ["continuous step overhead fraction", BenchReport.Number(r.StepOverheadFraction, 3), "<= 0.15"],
                ["continuous KV bytes copied per token", BenchReport.Number(r.KvBytesCopiedPerToken), ""],
                ["continuous preemptions", BenchReport.Number(r.Preemptions), ""],
                ["model ms per token: prefill / decode alone / decode in 32", $"{r.ModelCosts.PrefillMillisecondsPerToken:0.###} " +
                    $"/ {r.ModelCosts.DecodeMillisecondsPerTokenAlone:0.###} / {r.ModelCosts.DecodeMillisecondsPerTokenBatch32:0.###}", ""],
                ["prompt share of model time (decode in 32)", BenchReport.Number(r.ModelCosts.PromptShareOfModelTime, 3), ""],
                ["continuous / sequential ceiling on this machine", BenchReport.Number(r.ModelCosts.ContinuousOverSequentialCeiling, 2), ""],
            ]);

    private static string Chart(GenerationResults r) => SvgChart.Render(
        $"{r.Model}: {r.Callers} closed-loop callers per schedule ({r.Cores} cores)",
        "schedule",
        [1, 2, 4],
        [
            new ChartPanel("throughput (tokens/s)", [.. r.Schedules.Select(f => f.TokensPerSecond)], "#1f77b4"),
            new ChartPanel("mean running sequences", [.. r.Schedules.Select(f => f.MeanRunningSequences)], "#2ca02c"),
        ],
        [.. r.Schedules.Select(f => f.Schedule)]);

    private static double Milliseconds(LongHistogram histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 3);

    private static long Microseconds(long from, long to) =>
        Math.Clamp(Stopwatch.GetElapsedTime(from, to).Ticks / TimeSpan.TicksPerMicrosecond, 1, ClosedLoopLoad.HighestLatencyMicroseconds);

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>The measured period, in <see cref="Stopwatch"/> timestamps.</summary>
    private readonly record struct Window(long Start, long End)
    {
        public Window(long start, TimeSpan length)
            : this(start, start + Ticks(length))
        {
        }

        public bool Contains(long timestamp) => timestamp >= Start && timestamp < End;
    }

    /// <summary>What one caller saw inside the window.</summary>
    private sealed class CallerFigures
    {
        public long Tokens { get; set; }

        public long Completed { get; set; }

        public long Failed { get; set; }

        public LongHistogram Ttft { get; } = new(ClosedLoopLoad.HighestLatencyMicroseconds, 3);

        public LongHistogram Itl { get; } = new(ClosedLoopLoad.HighestLatencyMicroseconds, 3);

        public void Add(CallerFigures other)
        {
            Tokens += other.Tokens;
            Completed += other.Completed;
            Failed += other.Failed;
            Ttft.Add(other.Ttft);
            Itl.Add(other.Itl);
        }
    }

    /// <summary>Cumulative step-time components, in <see cref="Stopwatch"/> ticks (ONNX Runtime's in <see cref="TimeSpan"/> ticks).</summary>
    private readonly record struct StepTotals(long HopToDevice, long Pass, long HopBack, long OrtTimeSpanTicks)
    {
        public static StepTotals operator -(StepTotals a, StepTotals b) =>
            new(a.HopToDevice - b.HopToDevice, a.Pass - b.Pass, a.HopBack - b.HopBack, a.OrtTimeSpanTicks - b.OrtTimeSpanTicks);

        /// <summary>Milliseconds per step; the engine's share is the step time the pass and its two hops do not cover.</summary>
        public StepBreakdown PerStep(TimeSpan stepTime, long steps)
        {
            double PerStepMs(double milliseconds) => Math.Round(milliseconds / steps, 3);
            double Ms(long stopwatchTicks) => stopwatchTicks * 1000.0 / Stopwatch.Frequency;
            var ort = TimeSpan.FromTicks(OrtTimeSpanTicks).TotalMilliseconds;
            var covered = Ms(HopToDevice) + Ms(Pass) + Ms(HopBack);
            return new StepBreakdown(
                PerStepMs(stepTime.TotalMilliseconds - covered),
                PerStepMs(Ms(HopToDevice)),
                PerStepMs(Ms(Pass) - ort),
                PerStepMs(Ms(HopBack)),
                PerStepMs(ort));
        }
    }

    /// <summary>
    /// Times each forward pass the way production runs it (<c>pass => executor.RunAsync(pass)</c>), adding only
    /// timestamps: queueing onto the device thread, the pass itself, and resuming the step loop after it.
    /// </summary>
    private sealed class StepProfile
    {
        private long _hopToDevice;
        private long _pass;
        private long _hopBack;
        private long _ort;

        public Func<Func<StepOutput>, Task<StepOutput>> Wrap(DeviceExecutor executor) => pass => RunAsync(executor, pass);

        public StepTotals Totals() =>
            new(Interlocked.Read(ref _hopToDevice), Interlocked.Read(ref _pass), Interlocked.Read(ref _hopBack), Interlocked.Read(ref _ort));

        private async Task<StepOutput> RunAsync(DeviceExecutor executor, Func<StepOutput> pass)
        {
            var called = Stopwatch.GetTimestamp();
            long ended = 0;
            var output = await executor.RunAsync(() =>
            {
                var started = Stopwatch.GetTimestamp();
                var result = pass();
                ended = Stopwatch.GetTimestamp();
                Interlocked.Add(ref _hopToDevice, started - called);
                Interlocked.Add(ref _pass, ended - started);
                Interlocked.Add(ref _ort, result.RunTime.Ticks);
                return result;
            });

            // This method's completion resumes the engine inline, so the hop measured here is the whole way back.
            Interlocked.Add(ref _hopBack, Stopwatch.GetTimestamp() - ended);
            return output;
        }
    }
}
