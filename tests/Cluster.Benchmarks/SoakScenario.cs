using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- soak [--minutes N]</c>: three silo processes clustering through a real <c>redis-server</c>, a model with a
/// replica on each, and eight closed-loop callers through the SDK for N minutes (default 10), every request with its
/// own id. Every <see cref="ChaosInterval"/> one silo goes: SIGTERM and a replacement (twice), then SIGKILL and a
/// replacement, on whichever of silos 1 and 2 holds more replicas (in turn on a tie); silo 0 stays up the whole
/// run, so its RSS shows growth under churn. Replicas do not move onto silos that join, so after each graceful
/// restart (and once at the start) a silo holding several replicas is drained and undrained to spread them. Each
/// silo's first simulated device fails three batches after 3,000 (the replica runs them again on the second).
/// Reports requests sent, succeeded, failed by kind, lost (no answer within 10 s) and duplicated, the chaos events,
/// and every silo's RSS every 10 s; writes artifacts/bench/soak.json.
/// </summary>
public sealed class SoakScenario : IBenchScenario
{
    private const string Model = "soak";
    private const int Callers = 8;
    private const int FaultAfterBatches = 3000;
    private static readonly TimeSpan ChaosInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    public string Name => "soak";

    public string Summary =>
        "N minutes (--minutes, default 10) of load on three silo processes with graceful restarts, SIGKILLs and device faults; writes soak.json";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var duration = TimeSpan.FromMinutes(options.Minutes);
        using var redis = await RedisServer.StartAsync();
        var models = Directory.CreateTempSubdirectory("cluster-soak-models-").FullName;
        var clusterId = "soak-" + Guid.NewGuid().ToString("N")[..8];
        var silos = new SoakProcess?[3];
        var ended = new List<SoakProcess>();
        try
        {
            ModelCopies.Copy(Path.Combine(repositoryRoot, "deploy", "models"), "tiny_classifier", models, Model, """
                {"max_batch_size": 4, "device_kinds": ["sim"], "min_replicas": 3, "max_replicas": 3}
                """);
            var generation = 0;
            SoakProcess StartSilo(int slot) =>
                SoakProcess.Start(repositoryRoot, $"silo-{slot}-{generation++}", clusterId, redis.ConnectionString, models, FaultAfterBatches);
            for (var slot = 0; slot < silos.Length; slot++)
            {
                silos[slot] = StartSilo(slot);
                await silos[slot]!.WaitReadyAsync();
            }

            await using var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = clusterId,
                RedisConnectionString = redis.ConnectionString,
                GatewayListRefreshPeriod = TimeSpan.FromSeconds(2),
            });
            await WaitForReplicasAsync(client, 3);

            // The first silo to start places all three replicas; spread them, as an operator would, with drains.
            for (var i = 0; i < 3 && await RebalanceAsync(client); i++)
            {
            }
            Console.WriteLine($"soak: {options.Minutes:0.##} min, {Callers} callers, a silo restarted or killed every {ChaosInterval.TotalSeconds:0} s");

            var clock = Stopwatch.StartNew();
            var counts = new Counts();
            var samples = new List<RssSample>();
            var events = new List<ChaosEvent>();
            var executions = new ConcurrentDictionary<string, (double Successes, double Quarantines)>(StringComparer.Ordinal);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            using var stop = new CancellationTokenSource();
            var load = Task.WhenAll(Enumerable.Range(0, Callers).Select(c => CallerAsync(client.Inference, c, counts, clock, stop.Token)));
            var sampling = Task.Run(async () =>
            {
                var nextRss = TimeSpan.Zero;
                while (!stop.IsCancellationRequested)
                {
                    foreach (var silo in silos.Where(s => s is { HasExited: false }).Select(s => s!).ToList())
                    {
                        if (await ScrapeAsync(http, silo.MetricsUrl) is { } reading)
                        {
                            executions[silo.Name] = reading;
                        }

                        if (clock.Elapsed >= nextRss)
                        {
                            lock (samples)
                            {
                                samples.Add(new RssSample(Math.Round(clock.Elapsed.TotalSeconds, 1), silo.Name, silo.Pid, silo.RssMb()));
                            }
                        }
                    }

                    if (clock.Elapsed >= nextRss)
                    {
                        nextRss += SampleInterval;
                    }

                    await Task.Delay(1000);
                }
            });

            var round = 0;
            while (clock.Elapsed + ChaosInterval < duration)
            {
                await Task.Delay(ChaosInterval);
                var kill = round % 3 == 2;
                var held = await ReplicasBySiloAsync(client);
                var slot = 1 + (round % 2);
                if (held.GetValueOrDefault(silos[1]!.Name) != held.GetValueOrDefault(silos[2]!.Name))
                {
                    // The chaos hits whichever of silos 1 and 2 holds more replicas, so it takes replicas with it.
                    slot = held.GetValueOrDefault(silos[1]!.Name) > held.GetValueOrDefault(silos[2]!.Name) ? 1 : 2;
                }

                round++;
                var victim = silos[slot]!;
                var at = clock.Elapsed;
                int? exitCode = null;
                if (kill)
                {
                    victim.Kill();
                }
                else
                {
                    exitCode = await victim.TerminateAsync();
                }

                var stopped = clock.Elapsed;
                ended.Add(victim);
                silos[slot] = StartSilo(slot);
                await silos[slot]!.WaitReadyAsync();
                var replacementReady = clock.Elapsed;
                if (!kill)
                {
                    // Replicas do not move onto a silo that joins: spread them again so the next event takes some.
                    await RebalanceAsync(client);
                }

                var chaos = new ChaosEvent(
                    Math.Round(at.TotalSeconds, 1),
                    kill ? "sigkill" : "sigterm",
                    victim.Name,
                    held.GetValueOrDefault(victim.Name),
                    silos[slot]!.Name,
                    kill ? null : Math.Round((stopped - at).TotalSeconds, 2),
                    exitCode,
                    victim.DrainMilliseconds,
                    Math.Round((replacementReady - stopped).TotalSeconds, 2),
                    counts.FailedSince(at));
                events.Add(chaos);
                Console.WriteLine($"  {chaos.AtSeconds,6:0.0} s {chaos.Kind} {chaos.Silo} ({chaos.ReplicasHeld} replica(s)): stopped " +
                    $"in {chaos.StopSeconds?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"} s " +
                        $"(exit {chaos.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"}, " +
                            $"drain {chaos.DrainMilliseconds?.ToString("0", CultureInfo.InvariantCulture) ?? "-"} ms), {chaos.Replacement} " +
                                $"ready {chaos.ReplacementReadySeconds:0.0} s later; {counts.Succeeded:N0} succeeded, {counts.Failed:N0} failed so far");
            }

            var remaining = duration - clock.Elapsed;
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining);
            }

            await stop.CancelAsync();
            await load;
            await sampling;
            var executed = executions.Values.Sum(v => v.Successes);
            var results = new SoakResults
            {
                Minutes = options.Minutes,
                Sent = counts.Sent,
                Succeeded = counts.Succeeded,
                FailedByKind = counts.FailedByKind(),
                Lost = counts.Lost,
                LostRequests = counts.LostRequests(),
                Duplicated = counts.WrongIds + (long)Math.Max(0, executed - counts.Succeeded),
                ExecutionsCounted = (long)executed,
                DeviceQuarantines = (long)executions.Values.Sum(v => v.Quarantines),
                Events = events,
                Rss = samples,
                RssBySilo = samples.GroupBy(s => s.Silo).Select(g => new RssSummary(g.Key, g.First().RssMb, g.Max(s => s.RssMb), g.Last().RssMb, g.Count()))
                    .ToList(),
            };
            Console.WriteLine();
            Console.Write(BenchReport.Table(
                ["figure", "value"],
                [
                    ["sent", BenchReport.Number(results.Sent)],
                    ["succeeded", BenchReport.Number(results.Succeeded)],
                    .. results.FailedByKind.Select(f => (IReadOnlyList<string>)[$"failed: {f.Key}", BenchReport.Number(f.Value)]),
                    ["lost (no answer in 10 s)", BenchReport.Number(results.Lost)],
                    ["duplicated", BenchReport.Number(results.Duplicated)],
                    ["device quarantines (injected faults seen)", BenchReport.Number(results.DeviceQuarantines)],
                    .. results.RssBySilo.Select(r =>
                        (IReadOnlyList<string>)[$"RSS {r.Silo} first / max / last (MiB)", $"{r.FirstMb:0.0} / {r.MaxMb:0.0} / {r.LastMb:0.0}"]),
                ]));
            foreach (var lost in results.LostRequests)
            {
                Console.WriteLine($"  lost: sent at {lost.SentAtSeconds:0.0} s, " +
                    (lost.EndedAfterSeconds is { } after ? $"ended {after:0.0} s later: {lost.Outcome}" : lost.Outcome));
            }

            Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "soak.json", results)}");
        }
        finally
        {
            foreach (var silo in silos.Where(s => s is not null))
            {
                await silo!.TerminateAsync();
                silo.Dispose();
            }

            foreach (var silo in ended)
            {
                silo.Dispose();
            }

            Directory.Delete(models, recursive: true);
        }
    }

    private static async Task CallerAsync(InferenceClient client, int caller, Counts counts, Stopwatch clock, CancellationToken stop)
    {
        var input = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"{caller}-{n}");
            counts.SentOne();
            var sentAt = clock.Elapsed;
            var call = client.InferAsync(Model, [input], id: id);
            if (await Task.WhenAny(call, Task.Delay(AnswerWithin, CancellationToken.None)) != call)
            {
                counts.LostOne(sentAt, call.ContinueWith(
                    t => new LostRequest(Math.Round(sentAt.TotalSeconds, 1), Math.Round((clock.Elapsed - sentAt).TotalSeconds, 1),
                        t.IsCompletedSuccessfully ? "answered late" : t.IsCanceled ? "cancelled" : Describe(t.Exception!.GetBaseException())),
                    TaskScheduler.Default));
                continue;
            }

            try
            {
                var response = await call;
                counts.Answered(response.Id == id);
            }
            catch (Exception e)
            {
                var kind = e is InferenceException inference ? $"{e.GetType().Name} (safe to retry: {(inference.SafeToRetry ? "yes" : "no")})" : e.GetType()
                    .Name;
                counts.FailedOne(kind, clock.Elapsed);
            }
        }
    }

    private static string Describe(Exception error) =>
        $"{error.GetType().Name}: {(error.Message.Length > 200 ? error.Message[..200] + "…" : error.Message)}";

    /// <summary>The silo's <c>nv_inference_request_success</c> for the model and its device quarantines; null when it does not answer.</summary>
    private static async Task<(double Successes, double Quarantines)?> ScrapeAsync(HttpClient http, string url)
    {
        try
        {
            var text = await http.GetStringAsync(url);
            double successes = 0, quarantines = 0;
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("nv_inference_request_success{", StringComparison.Ordinal) && line.Contains($"model=\"{Model}\"", StringComparison.Ordinal))
                {
                    successes += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("cluster_device_quarantines", StringComparison.Ordinal) && !line.StartsWith('#'))
                {
                    quarantines += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                }
            }

            return (successes, quarantines);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// When a silo holds more than one replica, drains it (its replicas move to the silos with fewer) and undrains it
    /// once they have moved; returns whether it moved any.
    /// </summary>
    private static async Task<bool> RebalanceAsync(ClusterConnection client)
    {
        await WaitForReplicasAsync(client, 3);
        var (silo, count) = (await ReplicasBySiloAsync(client)).MaxBy(h => h.Value);
        if (count <= 1)
        {
            return false;
        }

        await client.Admin.SetDrainingAsync(silo, draining: true);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline && (await ReplicasBySiloAsync(client)).GetValueOrDefault(silo) > 0)
            {
                await Task.Delay(200);
            }
        }
        finally
        {
            await client.Admin.SetDrainingAsync(silo, draining: false);
        }

        await WaitForReplicasAsync(client, 3);
        return true;
    }

    /// <summary>The model's replicas on each silo, by the load board.</summary>
    private static async Task<Dictionary<string, int>> ReplicasBySiloAsync(ClusterConnection client) =>
        (await client.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync())
            .Silos.ToDictionary(s => s.Silo, s => s.Replicas.Count(r => r.Model == Model), StringComparer.Ordinal);

    private static async Task WaitForReplicasAsync(ClusterConnection client, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Sum(s => s.Replicas.Count(r => r.Model == Model && r.Accepting)) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The {count} replicas of {Model} were not ready within 60 s.");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The callers' tallies. Thread-safe.</summary>
    private sealed class Counts
    {
        private readonly ConcurrentDictionary<string, long> _failed = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<TimeSpan> _failedAt = new();
        private readonly ConcurrentQueue<(TimeSpan SentAt, Task<LostRequest> Ended)> _lostRequests = new();
        private long _sent;
        private long _succeeded;
        private long _lost;
        private long _wrongIds;

        public long Sent => Interlocked.Read(ref _sent);

        public long Succeeded => Interlocked.Read(ref _succeeded);

        public long Lost => Interlocked.Read(ref _lost);

        public long WrongIds => Interlocked.Read(ref _wrongIds);

        public long Failed => _failed.Values.Sum();

        public void SentOne() => Interlocked.Increment(ref _sent);

        public void Answered(bool rightId)
        {
            Interlocked.Increment(ref _succeeded);
            if (!rightId)
            {
                Interlocked.Increment(ref _wrongIds);
            }
        }

        public void LostOne(TimeSpan sentAt, Task<LostRequest> ended)
        {
            Interlocked.Increment(ref _lost);
            _lostRequests.Enqueue((sentAt, ended));
        }

        /// <summary>When each lost request was sent and how it ended, if it has by now.</summary>
        public List<LostRequest> LostRequests() =>
        [
            .. _lostRequests.Select(l => l.Ended.IsCompletedSuccessfully ? l.Ended.Result
                : new LostRequest(Math.Round(l.SentAt.TotalSeconds, 1), null, "no answer by the end of the run")),
        ];

        public void FailedOne(string kind, TimeSpan at)
        {
            _failed.AddOrUpdate(kind, 1, (_, n) => n + 1);
            _failedAt.Enqueue(at);
        }

        public long FailedSince(TimeSpan at) => _failedAt.Count(t => t >= at);

        public SortedDictionary<string, long> FailedByKind() => new(_failed, StringComparer.Ordinal);
    }
}

/// <summary>One chaos event: a silo ended (SIGTERM or SIGKILL) and its replacement started.</summary>
public sealed record ChaosEvent(
    [property: JsonPropertyName("at_s")] double AtSeconds,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("silo")] string Silo,
    [property: JsonPropertyName("replicas_held")] int ReplicasHeld,
    [property: JsonPropertyName("replacement")] string Replacement,
    [property: JsonPropertyName("stop_s")] double? StopSeconds,
    [property: JsonPropertyName("exit_code")] int? ExitCode,
    [property: JsonPropertyName("drain_ms")] double? DrainMilliseconds,
    [property: JsonPropertyName("replacement_ready_s")] double ReplacementReadySeconds,
    [property: JsonPropertyName("failed_since_event")] long FailedSinceEvent);

/// <summary>A request that had no answer within the soak's limit: when it was sent, how long it took to end (null: not by the report) and how.</summary>
public sealed record LostRequest(
    [property: JsonPropertyName("sent_at_s")] double SentAtSeconds,
    [property: JsonPropertyName("ended_after_s")] double? EndedAfterSeconds,
    [property: JsonPropertyName("outcome")] string Outcome);

/// <summary>A silo's resident set size at one moment.</summary>
public sealed record RssSample(
    [property: JsonPropertyName("t_s")] double Seconds,
    [property: JsonPropertyName("silo")] string Silo,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("rss_mb")] double RssMb);

/// <summary>A silo's first, largest and last RSS sample.</summary>
public sealed record RssSummary(
    [property: JsonPropertyName("silo")] string Silo,
    [property: JsonPropertyName("first_mb")] double FirstMb,
    [property: JsonPropertyName("max_mb")] double MaxMb,
    [property: JsonPropertyName("last_mb")] double LastMb,
    [property: JsonPropertyName("samples")] int Samples);

/// <summary>The <c>soak</c> scenario's figures; <c>lost</c> and <c>duplicated</c> must be 0.</summary>
public sealed record SoakResults
{
    [JsonPropertyName("minutes")] public required double Minutes { get; init; }

    [JsonPropertyName("sent")] public required long Sent { get; init; }

    [JsonPropertyName("succeeded")] public required long Succeeded { get; init; }

    /// <summary>Failed requests by exception type, with whether the request certainly never ran.</summary>
    [JsonPropertyName("failed_by_kind")] public required SortedDictionary<string, long> FailedByKind { get; init; }

    [JsonPropertyName("lost")] public required long Lost { get; init; }

    /// <summary>Each lost request: when it was sent and, if it ended before the report, how long it took and how it ended.</summary>
    [JsonPropertyName("lost_requests")] public required List<LostRequest> LostRequests { get; init; }

    /// <summary>Answers with another request's id, plus successes the silos counted beyond the answers (a lower bound: a silo's count since its last scrape
    /// before it ended is missing).</summary>
    [JsonPropertyName("duplicated")] public required long Duplicated { get; init; }

    [JsonPropertyName("executions_counted")] public required long ExecutionsCounted { get; init; }

    [JsonPropertyName("device_quarantines")] public required long DeviceQuarantines { get; init; }

    [JsonPropertyName("events")] public required List<ChaosEvent> Events { get; init; }

    [JsonPropertyName("rss_by_silo")] public required List<RssSummary> RssBySilo { get; init; }

    [JsonPropertyName("rss")] public required List<RssSample> Rss { get; init; }
}
