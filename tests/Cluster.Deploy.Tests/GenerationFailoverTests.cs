using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cluster.Benchmarks;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Load;
using Cluster.Inference.Devices;
using Cluster.Inference.Generation;
using Cluster.Tests.Shared;
using Xunit.Abstractions;

namespace Cluster.Deploy.Tests;

/// <summary>
/// Generation streams that outlive their replica: three silo processes through a real Redis, each with one replica of
/// the demo decoder, 16 concurrent greedy streams through the SDK, and the silo of one replica killed (SIGKILL) or
/// drained (SIGTERM) while they stream. Every stream must end with exactly the tokens and text of an undisturbed run
/// of its prompt (computed here on the same model), with no piece repeated or missing.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class GenerationFailoverTests(ITestOutputHelper output)
{
    private const int Silos = 3;
    private const int Streams = 16;

    /// <summary>Long enough (seconds of generation on a fast machine) that a silo stopped once every stream has <see cref="TokensBeforeStop"/> tokens stops
    /// them mid-generation.</summary>
    private const int MaxTokens = 800;

    private const int TokensBeforeStop = 5;

    private static readonly TimeSpan StreamsWithin = TimeSpan.FromSeconds(90);

    [Fact]
    public Task SiloKilledMidGeneration_EveryStreamEndsWithTheUndisturbedTokens() =>
        InterruptAsync((fleet, victim) => fleet.Kill(victim), nameof(ReplicaLostException));

    /// <remarks>
    /// The draining replica hands its running streams over; a stream still held by the silo when its process exits
    /// (not yet handed over) ends as a lost replica instead and resumes the same way, so such losses are allowed beside
    /// the hand-overs, which must occur. A surviving replica whose model is unloaded while the fleet re-balances ends its
    /// streams as not started ("send the request to another replica"), and they resume too.
    /// </remarks>
    [Fact]
    public Task SiloDrainedMidGeneration_EveryStreamEndsWithTheUndisturbedTokens() =>
        InterruptAsync((fleet, victim) => fleet.Terminate(victim), nameof(GenerationHandedOverException));

    /// <summary>Runs the streams, stops the victim's silo with <paramref name="stop"/> and checks them; <paramref name="interruption"/> must be among the
    /// interruptions, and any other must be a lost replica.</summary>
    private async Task InterruptAsync(Action<SiloFleet, int> stop, string interruption)
    {
        var models = Directory.CreateTempSubdirectory("generation-failover-models-").FullName;
        try
        {
            DemoDecoder.Write(models);
            File.WriteAllText(
                Path.Combine(models, DemoDecoder.Name, "config.json"),
                DemoDecoder.ConfigJson.Replace("\"instance_count\": 1,", $"\"instance_count\": 1, \"min_replicas\": {Silos}, \"max_replicas\": {Silos},",
                    StringComparison.Ordinal));
            var requests = Enumerable.Range(0, Streams)
                .Select(i => new GenerationRequest { Prompt = $"Stream {i} of the failover test: the quick brown fox", MaxTokens = MaxTokens, IgnoreEos = true,
                    Temperature = 0 })
                .ToArray();
            var phases = Stopwatch.StartNew();

            // The reference runs while the silos start: the machine's cores are mostly idle meanwhile.
            var undisturbed = Task.Run(() => UndisturbedAsync(models, requests));
            using var redis = await RedisServer.StartAsync();
            using var fleet = await SiloFleet.StartAsync(RepositoryPaths.Root, redis.ConnectionString, models, Silos);
            output.WriteLine($"{phases.Elapsed.TotalSeconds:0.0} s: silos started");
            await using var observer =
                await ClusterConnection.ConnectAsync(
                    new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId });
            await WaitForSilosOnBoardAsync(observer);
            await observer.Admin.LoadAsync(DemoDecoder.Name, null);
            var replicas = await WaitForOneReplicaPerSiloAsync(observer);
            output.WriteLine($"{phases.Elapsed.TotalSeconds:0.0} s: a replica on every silo");
            var victim = int.Parse(replicas.Single(r => r.Key.EndsWith("/0", StringComparison.Ordinal)).Silo["silo-".Length..], CultureInfo.InvariantCulture);
            await using var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = fleet.ClusterId,
                Gateways = [.. Enumerable.Range(0, Silos).Where(i => i != victim).Select(i => fleet.Gateways.ElementAt(i))],
            });

            using var resumes = new ResumeCounter();
            var streams = requests.Select(_ => new ConcurrentQueue<GeneratedToken>()).ToArray();
            using var allStarted = new CountdownEvent(Streams);
            var running = requests.Select((request, i) => Task.Run(async () =>
            {
                await foreach (var token in client.Inference.GenerateAsync(DemoDecoder.Name, request))
                {
                    streams[i].Enqueue(token);
                    if (streams[i].Count == TokensBeforeStop)
                    {
                        allStarted.Signal();
                    }
                }
            })).ToArray();

            Assert.True(allStarted.Wait(StreamsWithin), "Not every stream reached its first tokens.");
            output.WriteLine($"{phases.Elapsed.TotalSeconds:0.0} s: every stream has {TokensBeforeStop} tokens");
            var clock = Stopwatch.StartNew();
            stop(fleet, victim);
            var finished = Task.WhenAll(running);
            Assert.True(await Task.WhenAny(finished,
                Task.Delay(StreamsWithin)) == finished, $"Streams still running {StreamsWithin.TotalSeconds} s after silo-{victim} was stopped.");
            await finished;
            var reasons = resumes.Reasons;
            output.WriteLine($"silo-{victim} stopped; every stream ended {clock.Elapsed.TotalSeconds:0.0} s later after {reasons.Count} resumed interruptions");

            var expected = await undisturbed;
            Assert.True(reasons.Count > 0, $"No stream was interrupted: silo-{victim} held none mid-generation.");
            Assert.Contains(interruption, reasons);
            Assert.All(reasons, reason => Assert.Contains(reason, (string[])[interruption, nameof(ReplicaLostException), nameof(ReplicaNotStartedException)]));
            for (var i = 0; i < Streams; i++)
            {
                var pieces = streams[i].ToArray();
                Assert.Equal(Enumerable.Range(1, MaxTokens), pieces.Select(p => p.GeneratedTokens));
                Assert.Equal(expected[i].Tokens, pieces.Select(p => p.TokenId));
                Assert.Equal(expected[i].Text, string.Concat(pieces.Select(p => p.Text)));
                Assert.Equal(FinishReasons.Length, pieces[^1].FinishReason);
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }

    /// <summary>Each request's tokens and text run undisturbed on one engine over the same model file.</summary>
    private static async Task<(int[] Tokens, string Text)[]> UndisturbedAsync(string models, GenerationRequest[] requests)
    {
        var version = Path.Combine(models, DemoDecoder.Name, "1");
        using var runner = new OnnxDecoderRunner(Path.Combine(version, "model.onnx"), DeviceDescriptor.Cpu);
        var engine = new GenerationEngine(runner, DecoderTokenizer.Load(version, "gpt2"), new GenerationSettings { EosTokenIds = [50256] },
            TimeProvider.System);
        var streams = requests.Select(r => engine.Submit(GenerationJobs.Create(r, engine, DateTimeOffset.UtcNow))).ToArray();
        while (await engine.StepAsync())
        {
        }

        var results = new (int[] Tokens, string Text)[requests.Length];
        for (var i = 0; i < streams.Length; i++)
        {
            var updates = new List<GenerationUpdate>();
            await foreach (var update in streams[i].ReadAllAsync())
            {
                updates.Add(update);
            }

            results[i] = ([.. updates.Select(u => u.TokenId)], string.Concat(updates.Select(u => u.Text)));
        }

        return results;
    }

    private static async Task WaitForSilosOnBoardAsync(ClusterConnection observer)
    {
        var waited = Stopwatch.StartNew();
        while ((await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Length < Silos)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"Fewer than {Silos} silos on the load board after 30 s.");
            await Task.Delay(250);
        }
    }

    private static async Task<List<(string Key, string Silo)>> WaitForOneReplicaPerSiloAsync(ClusterConnection observer)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var board = await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
            var replicas = board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == DemoDecoder.Name && r.Accepting).Select(r => (r.Key, s.Silo))).ToList();
            if (replicas.Count == Silos && replicas.Select(r => r.Silo).Distinct().Count() == Silos)
            {
                return replicas;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(
                60), $"Replicas of {DemoDecoder.Name} after 60 s: {string.Join(", ", replicas.Select(r => $"{r.Key}@{r.Silo}"))}");
            await Task.Delay(250);
        }
    }

    /// <summary>Collects the SDK's <c>resumed</c> events: each is a stream interrupted mid-generation and resumed elsewhere, with why.</summary>
    private sealed class ResumeCounter : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<string> _reasons = new();

        public ResumeCounter()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Cluster.Inference",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = activity =>
                {
                    foreach (var resumed in activity.Events.Where(e => e.Name == "resumed"))
                    {
                        _reasons.Enqueue(resumed.Tags.Single(t => t.Key == "reason").Value as string ?? "");
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        /// <summary>The exception type that interrupted each resumed stream.</summary>
        public IReadOnlyCollection<string> Reasons => [.. _reasons];

        public void Dispose() => _listener.Dispose();
    }
}
