using System.Diagnostics;
using Cluster.Client.Routing;
using Cluster.Contracts.Load;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Generation;
using Cluster.Inference.Repository;
using Microsoft.ML.Tokenizers;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- generation-prefix</c>: code completion (<see cref="CodeCompletionWorkload"/>) on two replicas of the demo
/// decoder, each a <see cref="GenerationEngine"/> over its own <see cref="OnnxDecoderRunner"/> and device thread,
/// requests routed by the SDK's <see cref="ReplicaRouter.ChooseForPrompt"/> over a table refreshed from the engines'
/// outstanding tokens at the load board's interval. The same workload runs with prefix caching on, then off.
/// The decoder is <c>tiny_gpt</c> built with a 2,048-token context, since 1,000-token files outgrow its 1,024.
/// Writes artifacts/bench/generation-prefix.json.
/// </summary>
public sealed class PrefixCachingScenario : IBenchScenario
{
    private const int Replicas = 2;
    private const int ContextLength = 2048;

    /// <inheritdoc />
    public string Name => "generation-prefix";

    /// <inheritdoc />
    public string Summary =>
        $"{DemoDecoder.Name} ({ContextLength} context): code completion, {CodeCompletionWorkload.Sessions} sessions on {Replicas} replicas, prefix caching " +
            "and routing on vs off";

    /// <inheritdoc />
    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var folder = Directory.CreateTempSubdirectory("generation-prefix-bench-");
        try
        {
            DemoDecoder.Write(folder.FullName, ContextLength);
            var modelFolder = Path.Combine(folder.FullName, DemoDecoder.Name);
            var versionFolder = Path.Combine(modelFolder, "1");
            var generation = ModelConfigReader.Read(Path.Combine(modelFolder, "config.json")).Generation!;
            var settings = GenerationSettingsResolver.Resolve(generation, versionFolder, DeviceDescriptor.Cpu.MemoryTotalBytes);
            var tokenizer = DecoderTokenizer.Load(versionFolder, generation.Tokenizer);
            var sessions = CodeCompletionWorkload.Create(tokenizer);
            var onnxPath = Path.Combine(versionFolder, "model.onnx");
            Console.WriteLine(
                $"generation-prefix: {CodeCompletionWorkload.Sessions} sessions × {CodeCompletionWorkload.RequestsPerSession} requests, " +
                    $"file {CodeCompletionWorkload.FileTokens} tokens " +
                $"+ {CodeCompletionWorkload.TokensPerKeystroke} per request, {CodeCompletionWorkload.CompletionTokens} tokens out, {Replicas} replicas, " +
                    $"context {settings.ContextLength}");

            var cached = await RunOnceAsync(onnxPath, tokenizer, settings with { PrefixCaching = true }, sessions);
            Console.WriteLine($"  caching on:  {cached.Seconds:0.0} s, ttft p50 (after each session's first) {cached.TtftP50:0.0} ms");
            var uncached = await RunOnceAsync(onnxPath, tokenizer, settings with { PrefixCaching = false }, sessions);
            Console.WriteLine($"  caching off: {uncached.Seconds:0.0} s, ttft p50 (after each session's first) {uncached.TtftP50:0.0} ms");

            var later = CodeCompletionWorkload.Sessions * (CodeCompletionWorkload.RequestsPerSession - 1);
            var results = new PrefixCachingResults
            {
                PrefixCacheHitRate = Math.Round(cached.Hits / (double)Math.Max(1, cached.Queries), 4),
                TtftP50MillisecondsCached = Math.Round(cached.TtftP50, 2),
                TtftP50MillisecondsUncached = Math.Round(uncached.TtftP50, 2),
                PrefixRoutingHitRate = Math.Round(cached.SameReplica / (double)later, 4),
                RequestsFollowedPrefix = cached.Followed,
                RequestsFailed = cached.Failed + uncached.Failed,
                RunSeconds = [Math.Round(cached.Seconds, 1), Math.Round(uncached.Seconds, 1)],
                Model = DemoDecoder.Name,
                ContextLength = settings.ContextLength,
                Replicas = Replicas,
                Cores = Environment.ProcessorCount,
            };

            Console.WriteLine();
            Console.Write(BenchReport.Table(
                ["prefix_cache_hit_rate", "ttft_p50_ms cached / uncached", "ttft_cached_over_uncached", "prefix_routing_hit_rate", "failed"],
                [[
                    BenchReport.Number(results.PrefixCacheHitRate, 3),
                    $"{results.TtftP50MillisecondsCached:0.0} / {results.TtftP50MillisecondsUncached:0.0}",
                    BenchReport.Number(results.TtftCachedOverUncached, 3),
                    BenchReport.Number(results.PrefixRoutingHitRate, 3),
                    results.RequestsFailed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ]]));
            Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "generation-prefix.json", results)}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>One run of the whole workload on fresh replicas and a fresh router.</summary>
    private static async Task<RunFigures> RunOnceAsync(string onnxPath, Tokenizer tokenizer, GenerationSettings settings, int[][][] sessions)
    {
        var replicas = Enumerable.Range(0, Replicas).Select(i => new Replica($"{DemoDecoder.Name}:1/{i}", onnxPath, tokenizer, settings)).ToArray();
        using var router = new ReplicaRouter();
        Report(router, replicas);
        using var stop = new CancellationTokenSource();
        var board = Task.Run(() => ReportLoadAsync(router, replicas, stop.Token));
        try
        {
            var started = Stopwatch.GetTimestamp();
            var callers = await Task.WhenAll(sessions.Select(prompts => Task.Run(() => SessionAsync(router, replicas, tokenizer, prompts))));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var ttft = callers.SelectMany(c => c.LaterTtft).Order().ToArray();
            var statistics = replicas.Select(r => r.Engine.Statistics()).ToArray();
            return new RunFigures(
                seconds,
                ttft.Length == 0 ? 0 : ttft[(ttft.Length - 1) / 2],
                statistics.Sum(s => s.PrefixCacheHits),
                statistics.Sum(s => s.PrefixCacheQueries),
                callers.Sum(c => c.SameReplica),
                router.AffinityCounts.Followed,
                callers.Sum(c => c.Failed));
        }
        finally
        {
            await stop.CancelAsync();
            await board;
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    /// <summary>One session's requests in turn: routed, timed to the first token, and checked against the replica of its previous request.</summary>
    private static async Task<SessionFigures> SessionAsync(ReplicaRouter router, Replica[] replicas, Tokenizer tokenizer, int[][] prompts)
    {
        var figures = new SessionFigures();
        string? previous = null;
        foreach (var prompt in prompts)
        {
            var key = router.ChooseForPrompt(DemoDecoder.Name, 1, tokenizer.Decode(prompt) ?? "")!.Key;
            var replica = Array.Find(replicas, r => r.Key == key)!;
            using var tracked = router.Track(key);
            var job = new GenerationJob { PromptTokens = prompt, MaxTokens = CodeCompletionWorkload.CompletionTokens, IgnoreEos = true };
            var submitted = Stopwatch.GetTimestamp();
            double? ttft = null;
            try
            {
                await foreach (var update in replica.Engine.Submit(job).ReadAllAsync())
                {
                    ttft ??= Stopwatch.GetElapsedTime(submitted).TotalMilliseconds;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                figures.Failed++;
            }

            if (previous is not null)
            {
                figures.SameReplica += previous == key ? 1 : 0;
                if (ttft is { } first)
                {
                    figures.LaterTtft.Add(first);
                }
            }

            previous = key;
        }

        return figures;
    }

    /// <summary>The load board's part: the router's table from the engines' outstanding tokens, at the board's interval.</summary>
    private static async Task ReportLoadAsync(ReplicaRouter router, Replica[] replicas, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(IClusterLoadGrain.ReportInterval);
        while (await WaitAsync(timer, stop))
        {
            Report(router, replicas);
        }
    }

    private static void Report(ReplicaRouter router, Replica[] replicas) => router.Update(ReplicaTable.From(new ClusterLoad
    {
        Silos = [.. replicas.Select(r => new SiloLoad
        {
            Silo = r.Key,
            Replicas = [new ReplicaLoad { Key = r.Key, Model = DemoDecoder.Name, Version = 1, Capacity = 1, Queued = (int)r.Engine.OutstandingTokens,
                Accepting = true }],
        })],
    }));

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One replica: its runner on its own device thread (one intra-op thread, as one device) and its engine's loop.</summary>
    private sealed class Replica : IAsyncDisposable
    {
        private readonly OnnxDecoderRunner _runner;
        private readonly DeviceExecutor _executor;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public Replica(string key, string onnxPath, Tokenizer tokenizer, GenerationSettings settings)
        {
            Key = key;
            _runner = new OnnxDecoderRunner(onnxPath, DeviceDescriptor.Cpu, intraOpThreads: 1);
            _executor = new DeviceExecutor(key);
            Engine = new GenerationEngine(_runner, tokenizer, settings, TimeProvider.System, pass => _executor.RunAsync(pass));
            _loop = Task.Run(() => Engine.RunAsync(_stop.Token));
        }

        public string Key { get; }

        public GenerationEngine Engine { get; }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            Engine.Stop();
            _executor.Dispose();
            _runner.Dispose();
            _stop.Dispose();
        }
    }

    private sealed class SessionFigures
    {
        public List<double> LaterTtft { get; } = [];

        public int SameReplica { get; set; }

        public int Failed { get; set; }
    }

    private sealed record RunFigures(double Seconds, double TtftP50, long Hits, long Queries, int SameReplica, long Followed, int Failed);
}
