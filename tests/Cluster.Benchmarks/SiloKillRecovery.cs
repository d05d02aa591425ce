using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;
using Cluster.Edge.Tests.Fuzzing;
using Cluster.Tests.Shared;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// Three silo processes through Redis, each with one simulated device (a batch of up to 4 in 100 ms: 40
/// requests/s, so the devices and not the 2-core machine's shared CPUs bound the throughput) and one replica of the model; 32 closed-loop callers through the
/// SDK (grain calls through the
/// Orleans gateways of the two silos that survive, with the router's retries of requests that never started)
/// and 4 through those silos' gRPC edges; then a SIGKILL of the third silo. Measures the throughput before
/// the kill, per 1 s window after it, how long until it is back to 90 % of the surviving capacity, and
/// what became of every request in flight at the kill or sent after it.
/// </summary>
public static class SiloKillRecovery
{
    private const string Model = "kill_sim";
    private const int Silos = 3;
    private const int SdkCallers = 32;
    private const int EdgeCallers = 4;
    private const int MaxBatchSize = 4;
    private const int BatchMilliseconds = 100;
    private const double RecoveredShare = 0.9;
    private const int RecoveredWindows = 3;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan BeforeKill = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AfterKill = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan HealthyWindow = TimeSpan.FromSeconds(3);

    /// <summary>A call with no answer this long after it was sent is lost (Orleans' own response timeout is 30 s).</summary>
    private static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(40);

    /// <summary>Starts the fleet, runs the load, kills a silo holding a replica; the figures.</summary>
    public static async Task<SiloKillResults> MeasureAsync(string repositoryRoot)
    {
        using var redis = await RedisServer.StartAsync();
        var models = Directory.CreateTempSubdirectory("cluster-recovery-models-").FullName;
        try
        {
            using var fleet = await SiloFleet.StartAsync(repositoryRoot, redis.ConnectionString, models, Silos, new Dictionary<string, string>
            {
                ["Cluster__Devices__Simulated__0__Profile"] = "kill",
                ["Cluster__Devices__Simulated__0__FixedLatencyMicroseconds"] = (BatchMilliseconds * 1000).ToString(CultureInfo.InvariantCulture),
                ["Cluster__Devices__Simulated__0__PerItemMicroseconds"] = "0",
            });
            await using var observer =
                await ClusterConnection.ConnectAsync(
                    new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId });

            // Loaded once all three silos report to the board, so placement spreads the replicas over them
            // (replicas placed while only the first silo ran would stay there).
            await WaitForSilosOnBoardAsync(observer);
            ModelCopies.Copy(Path.Combine(repositoryRoot, "deploy", "models"), "tiny_classifier", models, Model, $$"""
                {"max_batch_size": {{MaxBatchSize}}, "device_kinds": ["sim"], "min_replicas": {{Silos}}, "max_replicas": {{Silos}}}
                """);
            await observer.Admin.LoadAsync(Model, null);
            var replicas = await WaitForOneReplicaPerSiloAsync(observer);
            var victim = int.Parse(replicas.Single(r => r.Key.EndsWith("/0", StringComparison.Ordinal)).Silo["silo-".Length..], CultureInfo.InvariantCulture);
            var survivors = Enumerable.Range(0, Silos).Where(i => i != victim).ToArray();

            await using var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
            {
                ClusterId = fleet.ClusterId,
                Gateways = [.. survivors.Select(i => fleet.Gateways.ElementAt(i))],
            });
            var channels = survivors.Select(i => GrpcChannel.ForAddress(fleet.GrpcAddresses.ElementAt(i))).ToArray();
            try
            {
                return await LoadAndKillAsync(fleet, victim, observer, client.Inference,
                    [.. channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c))]);
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

    /// <summary>The report's rows for a run.</summary>
    public static IEnumerable<string[]> Rows(SiloKillResults kill)
    {
        ArgumentNullException.ThrowIfNull(kill);
        return
        [
            ["silo kill: declared dead after (s)", kill.DeadDeclaredSeconds is { } dead ? BenchReport.Number(dead, 2) : "not within 60 s"],
            ["silo kill: throughput before / surviving capacity / after (req/s)", $"{kill.PreKillThroughput:0.#} / {kill.SurvivingCapacity:0.#} " +
                $"/ {kill.SurvivorsThroughput:0.#}"],
            ["silo kill: the surviving devices' capacity (req/s); load average", $"{kill.SurvivingDeviceCapacity:0} ; {kill.LoadAverage:0.#}"],
            ["silo kill: throughput at 90 % of the survivors' capacity after (s)", kill.ThroughputRecoverySeconds is { } back ? BenchReport.Number(back)
                : "not within 20 s"],
            ["silo kill: 1 s windows after the kill (req/s)", string.Join(' ', kill.WindowThroughput)],
            ["silo kill, SDK: calls / ok / retriable / final / lost", Calls(kill.Sdk)],
            ["silo kill, edge: calls / ok / retriable / final / lost", Calls(kill.Edge)],
            ["silo kill: executed / answered / duplicated", $"{kill.Executed} / {kill.Answered} / {kill.Duplicated}"],
            ["silo kill: replicas at the end (key@silo device capacity queued)", string.Join(", ", kill.ReplicasAfterKill)],
        ];
    }

    /// <summary>Prints the failures by type.</summary>
    public static void PrintErrors(SiloKillResults kill)
    {
        ArgumentNullException.ThrowIfNull(kill);
        foreach (var (error, count) in kill.Sdk.Errors.Select(e => ("SDK " + e.Key, e.Value)).Concat(kill.Edge.Errors.Select(e => ("edge " + e.Key, e.Value))))
        {
            Console.WriteLine($"  silo kill: {count} x {error}");
        }
    }

    private static string Calls(SiloKillCalls calls) =>
        $"{calls.Calls} / {calls.Succeeded} / {calls.FailedRetriable} / {calls.FailedFinal} / {calls.Lost + calls.WrongId}";

    private static async Task<SiloKillResults> LoadAndKillAsync(
        SiloFleet fleet, int victim, ClusterConnection observer, InferenceClient sdk, GRPCInferenceService.GRPCInferenceServiceClient[] edges)
    {
        var calls = new ConcurrentQueue<Call>();
        var clock = Stopwatch.StartNew();
        var killAt = Warmup + BeforeKill;
        var stop = 0;
        var ids = 0;
        var input = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
        var edgeRequest = GrpcFuzzCases.Valid(Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1);

        async Task CallerAsync(int caller)
        {
            while (Volatile.Read(ref stop) == 0)
            {
                var id = $"k{Interlocked.Increment(ref ids)}";
                var sentAt = clock.Elapsed;
                var edge = caller >= SdkCallers;
                var call = edge ? SendEdgeAsync(edges[caller % edges.Length], edgeRequest, id) : SendSdkAsync(sdk, input, id);
                var (outcome, error) = await call.WaitAsync(LostAfter)
                    .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : (CallOutcome.Lost, "no answer within 40 s"), TaskScheduler.Default);
                calls.Enqueue(new Call(edge, sentAt, clock.Elapsed, outcome, error));
            }
        }

        var load = Task.WhenAll(Enumerable.Range(0, SdkCallers + EdgeCallers).Select(i => Task.Run(() => CallerAsync(i))));
        await Task.Delay(killAt - clock.Elapsed);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var metrics = fleet.MetricsAddresses.ToArray();
        var victimExecuted = await ExecutedAsync(http, metrics[victim]);
        var killedAt = clock.Elapsed;
        fleet.Kill(victim);
        var dead = WaitForDeadAsync(observer, $"silo-{victim}", clock, killedAt);

        // A second beyond the last window, so calls sent late in it still complete within it.
        await Task.Delay(killedAt + AfterKill + TimeSpan.FromSeconds(1) - clock.Elapsed);
        var board = await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
        Volatile.Write(ref stop, 1);
        await load;
        var declaredDead = await dead;

        // Executions by the silos' own success counters, which outlive retired replicas; the killed silo's as read just before the kill.
        var executed = victimExecuted;
        foreach (var survivor in metrics.Where((_, i) => i != victim))
        {
            executed += await ExecutedAsync(http, survivor);
        }

        return Summarise([.. calls], killedAt, declaredDead, executed) with
        {
            LoadAverage = LoadAverage(),
            ReplicasAfterKill = [.. board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == Model)
                .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}@{s.Silo} {r.Device} {r.Capacity:0.##} {r.Queued}")))],
        };
    }

    private static SiloKillResults Summarise(Call[] calls, TimeSpan killedAt, double? declaredDead, long executed)
    {
        var preKill = calls.Count(c => c.Outcome == CallOutcome.Succeeded && c.EndedAt >= Warmup && c.EndedAt < killedAt) / (killedAt - Warmup).TotalSeconds;
        var surviving = preKill * (Silos - 1) / Silos;
        var windows = Enumerable.Range(0, (int)AfterKill.TotalSeconds)
            .Select(k => (double)calls.Count(c => c.Outcome == CallOutcome.Succeeded && c.EndedAt >= killedAt + TimeSpan.FromSeconds(k)
                && c.EndedAt < killedAt + TimeSpan.FromSeconds(k + 1)))
            .ToArray();
        int? recovered = null;
        for (var k = 0; k + RecoveredWindows <= windows.Length && recovered is null; k++)
        {
            if (windows.Skip(k).Take(RecoveredWindows).All(w => w >= RecoveredShare * surviving))
            {
                recovered = k + 1;
            }
        }

        // Every call still running at the kill or sent after it.
        var phase = calls.Where(c => c.EndedAt >= killedAt).ToArray();
        var succeeded = calls.Count(c => c.Outcome == CallOutcome.Succeeded);
        return new SiloKillResults
        {
            SdkCallers = SdkCallers,
            EdgeCallers = EdgeCallers,
            PreKillThroughput = Math.Round(preKill, 1),
            SurvivingDeviceCapacity = (Silos - 1) * MaxBatchSize * 1000.0 / BatchMilliseconds,
            SurvivingCapacity = Math.Round(surviving, 1),
            SurvivorsThroughput = Math.Round(windows.Skip(10).Average(), 1),
            ThroughputRecoverySeconds = recovered,
            WindowThroughput = windows,
            DeadDeclaredSeconds = declaredDead,
            RecoverySeconds = RecoveredAt(calls, killedAt) is { } at ? Math.Round((at - killedAt).TotalSeconds, 2) : null,
            Sdk = Count(phase.Where(c => !c.Edge)),
            Edge = Count(phase.Where(c => c.Edge)),
            Executed = executed,
            Answered = succeeded,
            // A request that ended without an answer or in an error that does not say it never ran may have run once.
            Duplicated = calls.Count(c => c.Outcome == CallOutcome.WrongId)
                + (int)Math.Max(0, executed - succeeded - calls.Count(c => c.Outcome is CallOutcome.Final or CallOutcome.Lost)),
        };
    }

    /// <summary>The machine's 1-minute load average (Linux), null elsewhere: the CPUs are shared, and a busy machine lowers the throughput.</summary>
    private static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static SiloKillCalls Count(IEnumerable<Call> calls)
    {
        var list = calls.ToList();
        return new SiloKillCalls
        {
            Calls = list.Count,
            Succeeded = list.Count(c => c.Outcome == CallOutcome.Succeeded),
            FailedRetriable = list.Count(c => c.Outcome == CallOutcome.Retriable),
            FailedFinal = list.Count(c => c.Outcome == CallOutcome.Final),
            Lost = list.Count(c => c.Outcome == CallOutcome.Lost),
            WrongId = list.Count(c => c.Outcome == CallOutcome.WrongId),
            Errors = list.Where(c => c.Error is not null).GroupBy(c => c.Error!).ToDictionary(g => g.Key, g => g.Count()),
        };
    }

    /// <summary>The send time of the last failure after the kill, once a full healthy window of successes (by send time) follows it.</summary>
    private static TimeSpan? RecoveredAt(Call[] calls, TimeSpan killedAt)
    {
        var lastFailure = killedAt;
        TimeSpan? lastSuccess = null;
        foreach (var call in calls.Where(c => c.SentAt >= killedAt).OrderBy(c => c.SentAt))
        {
            if (call.Outcome == CallOutcome.Succeeded)
            {
                lastSuccess = call.SentAt;
            }
            else
            {
                lastFailure = call.SentAt;
            }
        }

        return lastSuccess - lastFailure >= HealthyWindow ? lastFailure : null;
    }

    private static async Task<(CallOutcome, string?)> SendSdkAsync(InferenceClient sdk, TensorData input, string id)
    {
        try
        {
            var response = await sdk.InferAsync(Model, [input], id: id);
            return response.Id == id ? (CallOutcome.Succeeded, null) : (CallOutcome.WrongId, null);
        }
        catch (InferenceException e)
        {
            return (e.SafeToRetry ? CallOutcome.Retriable : CallOutcome.Final, e.GetType().Name);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else (a silo lost mid-call, a timeout) may have run: not safe to retry.
            return (CallOutcome.Final, e.GetType().Name);
        }
    }

    private static async Task<(CallOutcome, string?)> SendEdgeAsync(GRPCInferenceService.GRPCInferenceServiceClient edge, ModelInferRequest template, string id)
    {
        var request = template.Clone();
        request.Id = id;
        try
        {
            var response = await edge.ModelInferAsync(request);
            return response.Id == id ? (CallOutcome.Succeeded, null) : (CallOutcome.WrongId, null);
        }
        catch (RpcException e)
        {
            return (e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable ? CallOutcome.Retriable : CallOutcome.Final, $"grpc {e.StatusCode}");
        }
    }

    /// <summary>The model's successful requests on one silo, by its <c>nv_inference_request_success</c> counter.</summary>
    private static async Task<long> ExecutedAsync(HttpClient http, string metricsUrl)
    {
        var text = await http.GetStringAsync(new Uri(metricsUrl));
        return (long)text.Split('\n')
            .Where(l => l.StartsWith("nv_inference_request_success{", StringComparison.Ordinal) && l.Contains($"model=\"{Model}\"", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
    }

    /// <summary>Seconds from the kill until the observer's cluster status shows the silo dead; null if not within 60 s.</summary>
    private static async Task<double?> WaitForDeadAsync(ClusterConnection observer, string silo, Stopwatch clock, TimeSpan killedAt)
    {
        while (clock.Elapsed - killedAt < TimeSpan.FromSeconds(60))
        {
            try
            {
                // A short wait per call: the admin grain may have lived on the killed silo, and a call to it waits for Orleans' response timeout.
                var status = await observer.Admin.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(1));
                if (status.Silos.Any(s => s.Name == silo && s.State == "Dead"))
                {
                    return Math.Round((clock.Elapsed - killedAt).TotalSeconds, 2);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Ask again.
            }

            await Task.Delay(100);
        }

        return null;
    }

    private static async Task WaitForSilosOnBoardAsync(ClusterConnection observer)
    {
        var waited = Stopwatch.StartNew();
        while ((await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Length < Silos)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"Fewer than {Silos} silos on the load board after 30 s.");
            }

            await Task.Delay(250);
        }
    }

    private static async Task<List<(string Key, string Silo)>> WaitForOneReplicaPerSiloAsync(ClusterConnection observer)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var board = await observer.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
            var replicas = board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == Model && r.Accepting).Select(r => (r.Key, s.Silo))).ToList();
            if (replicas.Count == Silos && replicas.Select(r => r.Silo).Distinct().Count() == Silos)
            {
                return replicas;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException($"Replicas of {Model} after 90 s: {string.Join(", ", replicas.Select(r => $"{r.Key}@{r.Silo}"))}");
            }

            await Task.Delay(250);
        }
    }

    private sealed record Call(bool Edge, TimeSpan SentAt, TimeSpan EndedAt, CallOutcome Outcome, string? Error);
}
