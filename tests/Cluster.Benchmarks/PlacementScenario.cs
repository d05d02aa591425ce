using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Cluster.Client.Routing;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- placement</c>: (1) three silos with simulated devices of speed 1, 2 and 4 under an open-loop load
/// at 90% of their total capacity (20 s unless <c>--seconds</c> says otherwise), routed by the SDK's router
/// and, in the same run, round-robin over the same replicas; then both again at saturating load (closed
/// loop, more callers than the devices' batches hold); (2) 8 silos × 8 simulated devices in one process,
/// saturated, against the sum of their capacities; (3) the router's decision time as its table grows to
/// 1,000 replicas. Writes artifacts/bench/placement.json.
/// </summary>
public sealed class PlacementScenario : IBenchScenario
{
    private const string TierModel = "tiered";
    private const string FleetModel = "fleet";
    private const int MaxBatch = 8;

    /// <summary>The open-loop period at 90% load when <c>--seconds</c> is not given, as the issue's benchmark asks.</summary>
    private const double DefaultSeconds = 20;

    /// <summary>Closed-loop callers of the saturating runs: three times the requests the three devices' batches hold.</summary>
    private const int SaturatingCallers = 3 * 3 * MaxBatch;

    /// <summary>Simulated batch latency of a speed-1 device in the three-silo part: fixed + per item, µs.</summary>
    private const int TierFixedMicroseconds = 400;
    private const int TierPerItemMicroseconds = 8000;

    /// <summary>How many replicas a round-robin request tries when each refuses it as retiring.</summary>
    private const int MaxRoundRobinAttempts = 5;

    /// <summary>Simulated batch latency of each fleet device, µs; requests carry a full batch each.</summary>
    private const int FleetFixedMicroseconds = 1000;
    private const int FleetPerItemMicroseconds = 20000;

    public string Name => "placement";

    public string Summary => "3 silos (1x, 2x, 4x) at 90% load: router vs round robin; 8 silos x 8 devices vs ideal; router decision time up to 1,000 replicas";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var duration = TimeSpan.FromSeconds(options.SecondsGiven ? options.Seconds : DefaultSeconds);
        Console.WriteLine($"placement: {Environment.ProcessorCount} cores, {duration.TotalSeconds:0.##} s per load");
        var models = Path.Combine(repositoryRoot, "deploy", "models");
        var tiers = await TiersAsync(models, duration);
        var fleet = await FleetAsync(models, duration);
        var routeNanoseconds = RouteNanoseconds([10, 100, 1000]);

        var results = new PlacementResults
        {
            ServedFraction = Math.Round(tiers.Router.ServedFraction, 4),
            ThroughputVsRoundRobin = Math.Round(tiers.SaturatedRouterPerSecond / tiers.SaturatedRoundRobinPerSecond, 3),
            ThroughputVsRoundRobinAt90Percent = Math.Round(tiers.Router.ServedPerSecond / tiers.RoundRobin.ServedPerSecond, 3),
            SaturatedRouterPerSecond = Math.Round(tiers.SaturatedRouterPerSecond, 1),
            SaturatedRoundRobinPerSecond = Math.Round(tiers.SaturatedRoundRobinPerSecond, 1),
            CapacityPerSecond = Math.Round(tiers.Offered / 0.9, 1),
            P99VsUnloaded = Math.Round(tiers.Router.P99Milliseconds / tiers.UnloadedP99Milliseconds, 2),
            P50Milliseconds = Math.Round(tiers.Router.P50Milliseconds, 2),
            P99Milliseconds = Math.Round(tiers.Router.P99Milliseconds, 2),
            UnloadedP99Milliseconds = Math.Round(tiers.UnloadedP99Milliseconds, 2),
            OfferedPerSecond = Math.Round(tiers.Offered, 1),
            RouterServedPerSecond = Math.Round(tiers.Router.ServedPerSecond, 1),
            RoundRobinServedFraction = Math.Round(tiers.RoundRobin.ServedFraction, 4),
            RoundRobinServedPerSecond = Math.Round(tiers.RoundRobin.ServedPerSecond, 1),
            RoundRobinP99Milliseconds = Math.Round(tiers.RoundRobin.P99Milliseconds, 2),
            ScaleFractionOfIdeal = Math.Round(fleet.ItemsPerSecond / fleet.IdealItemsPerSecond, 3),
            FleetItemsPerSecond = Math.Round(fleet.ItemsPerSecond, 1),
            FleetIdealItemsPerSecond = Math.Round(fleet.IdealItemsPerSecond, 1),
            FleetDevicesUsed = fleet.DevicesUsed,
            FleetReplicasPerSilo = fleet.ReplicasPerSilo,
            RouteNanosecondsAt1000Replicas = Math.Round(routeNanoseconds[1000], 1),
            RouteNanoseconds = routeNanoseconds.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => Math.Round(p.Value, 1)),
        };

        Console.WriteLine(BenchReport.Table(
            ["three silos 1x/2x/4x at 90%", "offered/s", "served/s", "served", "p50 ms", "p99 ms"],
            [
                ["router (p2c by capacity)", BenchReport.Number(tiers.Offered),
                    BenchReport.Number(tiers.Router.ServedPerSecond), $"{tiers.Router.ServedFraction:P1}", BenchReport.Number(tiers.Router.P50Milliseconds, 2),
                        BenchReport.Number(tiers.Router.P99Milliseconds, 2)],
                ["round robin", BenchReport.Number(tiers.Offered),
                    BenchReport.Number(tiers.RoundRobin.ServedPerSecond), $"{tiers.RoundRobin.ServedFraction:P1}",
                        BenchReport.Number(tiers.RoundRobin.P50Milliseconds, 2), BenchReport.Number(tiers.RoundRobin.P99Milliseconds, 2)],
            ]));
        Console.WriteLine($"  failures: router {Failures(tiers.Router)}; round robin {Failures(tiers.RoundRobin)}" +
            (tiers.RoundRobinResent == 0 ? "" : $"; round robin resent {tiers.RoundRobinResent} requests refused by a retiring replica"));
        Console.WriteLine($"  saturating ({SaturatingCallers} callers, closed loop): router {tiers.SaturatedRouterPerSecond:N0}/s, round " +
            $"robin {tiers.SaturatedRoundRobinPerSecond:N0}/s, of a capacity of {tiers.Offered / 0.9:N0}/s");
        Console.WriteLine($"  unloaded p99 {tiers.UnloadedP99Milliseconds:0.00} ms; 8 silos x 8 devices: {fleet.ItemsPerSecond:N0} of an " +
            $"ideal {fleet.IdealItemsPerSecond:N0} items/s on {fleet.DevicesUsed} devices (replicas per silo {fleet.ReplicasPerSilo})");
        Console.WriteLine($"  router decision: {string.Join(", ", routeNanoseconds.Select(p => $"{p.Key} replicas {p.Value:0} ns"))}");
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "placement.json", results)}");
    }

    private static string Failures(OpenLoopResult result) =>
        result.FailuresByType.Count == 0 ? "none" : string.Join(", ", result.FailuresByType.Select(f => $"{f.Value} {f.Key}"));

    private static async Task<TierResults> TiersAsync(string models, TimeSpan duration)
    {
        int[] speeds = [1, 2, 4];
        await using var cluster = await BenchCluster.StartAsync(
            _ => { },
            silos: [.. speeds.Select(s => SimSilo($"s{s}", s, 1, TierFixedMicroseconds / s, TierPerItemMicroseconds / s))]);
        var keys = await LoadAsync(cluster, models, TierModel, 3);
        var capacity = speeds.Sum(s => MaxBatch / ((TierFixedMicroseconds + (MaxBatch * TierPerItemMicroseconds)) / (double)s / 1e6));
        var offered = 0.9 * capacity;
        TensorData[] inputs = [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)];
        var inferOptions = new Client.InferOptions { Timeout = TimeSpan.FromSeconds(1) };
        var request = new InferenceRequest { Inputs = inputs, TimeoutMicroseconds = 1_000_000 };

        var unloaded = await new ClosedLoopLoad(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))
            .RunAsync(_ => cluster.Inference.InferAsync(TierModel, inputs));

        var router = await new OpenLoopLoad(offered, duration).RunAsync(() => cluster.Inference.InferAsync(TierModel, inputs, options: inferOptions));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var next = -1;
        var resent = 0;

        // A replica the autoscaler retires (it moves one when a silo holds several) refuses what it has not started and says to
        // retry elsewhere: round robin, as a client would, reads the replicas again and sends the request to the next one.
        async Task RoundRobin(InferenceRequest sent)
        {
            for (var attempt = 1; ; attempt++)
            {
                var current = keys;
                try
                {
                    await cluster.Connection.Grains.GetGrain<IModelBatcherGrain>(current[(int)((uint)Interlocked.Increment(ref next) % current.Count)])
                        .InferAsync(sent);
                    return;
                }
                catch (ReplicaNotStartedException) when (attempt < MaxRoundRobinAttempts)
                {
                    Interlocked.Increment(ref resent);
                    keys = await WaitForReplicasAsync(cluster, TierModel, 1);
                }
            }
        }

        var roundRobin = await new OpenLoopLoad(offered, duration).RunAsync(() => RoundRobin(request));

        // Saturating: every caller waits for its answer, so round robin, which gives each replica the same number
        // of requests, runs at three times the slowest replica's rate; the router's rate is bounded by the sum.
        var saturatedDuration = TimeSpan.FromSeconds(Math.Max(5, duration.TotalSeconds / 2));
        var patientOptions = new Client.InferOptions { Timeout = TimeSpan.FromSeconds(10) };
        var patientRequest = request with { TimeoutMicroseconds = 10_000_000 };
        var saturatedRouter = await new ClosedLoopLoad(SaturatingCallers, TimeSpan.FromSeconds(2), saturatedDuration)
            .RunAsync(_ => cluster.Inference.InferAsync(TierModel, inputs, options: patientOptions));
        var saturatedRoundRobin = await new ClosedLoopLoad(SaturatingCallers, TimeSpan.FromSeconds(2), saturatedDuration)
            .RunAsync(_ => RoundRobin(patientRequest));
        return new TierResults(offered, unloaded.P99Milliseconds, router, roundRobin, saturatedRouter.SamplesPerSecond, saturatedRoundRobin.SamplesPerSecond,
            resent);
    }

    private sealed record TierResults(
        double Offered, double UnloadedP99Milliseconds, OpenLoopResult Router, OpenLoopResult RoundRobin, double SaturatedRouterPerSecond,
            double SaturatedRoundRobinPerSecond, int RoundRobinResent);

    private static async Task<(double ItemsPerSecond, double IdealItemsPerSecond, int DevicesUsed, string ReplicasPerSilo)> FleetAsync(string models,
        TimeSpan duration)
    {
        const int Silos = 8, DevicesPerSilo = 8, Replicas = Silos * DevicesPerSilo;
        await using var cluster = await BenchCluster.StartAsync(
            _ => { },
            silos: [.. Enumerable.Range(0, Silos).Select(i => SimSilo($"f{i}", 1, DevicesPerSilo, FleetFixedMicroseconds, FleetPerItemMicroseconds))]);
        await LoadAsync(cluster, models, FleetModel, Replicas);
        var features = new float[MaxBatch * 4];
        TensorData[] inputs = [TensorData.FromFloat32("features", features, MaxBatch, 4)];
        var load = await new ClosedLoopLoad(4 * Replicas, TimeSpan.FromSeconds(1), duration, samplesPerCall: MaxBatch)
            .RunAsync(_ => cluster.Inference.InferAsync(FleetModel, inputs));
        var board = await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
        var devicesUsed = board.Silos.Sum(s => s.Replicas.Where(r => r.Model == FleetModel).Select(r => r.Device).Distinct().Count());
        var perSilo = string.Join(" ", board.Silos.Select(s => s.Replicas.Count(r => r.Model == FleetModel)));
        var ideal = Replicas * MaxBatch / ((FleetFixedMicroseconds + (MaxBatch * FleetPerItemMicroseconds)) / 1e6);
        return (load.SamplesPerSecond, ideal, devicesUsed, perSilo);
    }

    /// <summary>Mean nanoseconds per router decision with a table of each size (capacities 1..8, queues 0..3).</summary>
    private static Dictionary<int, double> RouteNanoseconds(int[] sizes)
    {
        var results = new Dictionary<int, double>();
        var random = new Random(7);
        foreach (var size in sizes)
        {
            using var router = new ReplicaRouter();
            var replicas = Enumerable.Range(0, size).Select(i => new ReplicaLoad
            {
                Key = new ReplicaKey("m", 1, i).ToString(),
                Model = "m",
                Version = 1,
                Capacity = 1 + random.Next(8),
                Queued = random.Next(4),
                Accepting = true,
            });
            router.Update(ReplicaTable.From(new ClusterLoad { Silos = [new SiloLoad { Silo = "s", Replicas = [.. replicas] }] }));
            const int Decisions = 1_000_000;
            for (var i = 0; i < 10_000; i++)
            {
                router.Choose("m", 1);
            }

            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Decisions; i++)
            {
                router.Choose("m", 1);
            }

            results[size] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Decisions;
        }

        return results;
    }

    /// <summary>
    /// Adds a sim-only copy of tiny_classifier with <paramref name="replicas"/> replicas once every silo is on the load board
    /// (replicas are not moved when silos join later), loads it and waits until all its replicas are ready and settled.
    /// </summary>
    private static async Task<List<string>> LoadAsync(BenchCluster cluster, string models, string model, int replicas)
    {
        while ((await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Length < cluster.SiloCount)
        {
            await Task.Delay(200);
        }

        ModelCopies.Copy(models, "tiny_classifier", cluster.ModelRepository, model, SimOnlyConfig(replicas));
        await cluster.Connection.Admin.LoadAsync(model, null);
        return await WaitForReplicasAsync(cluster, model, replicas, settled: true);
    }

    /// <summary>
    /// The keys of the model's accepting replicas once there are <paramref name="count"/>. <paramref name="settled"/> also waits
    /// until they are spread over as many silos as they can be and none is starting or retiring: replicas placed at once may
    /// crowd a silo, and the autoscaler then moves one, which a measurement must not include.
    /// </summary>
    private static async Task<List<string>> WaitForReplicasAsync(BenchCluster cluster, string model, int count, bool settled = false)
    {
        var deadline = Stopwatch.GetTimestamp() + (120 * Stopwatch.Frequency);
        while (true)
        {
            var board = await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync();
            var listed = board.Silos.SelectMany(s => s.Replicas.Where(r => r.Model == model).Select(r => (s.Silo, Replica: r))).ToList();
            var keys = listed.Where(r => r.Replica.Accepting).Select(r => r.Replica.Key).Order(StringComparer.Ordinal).ToList();
            var silos = listed.Select(r => r.Silo).Distinct(StringComparer.Ordinal).Count();
            var spread = silos == Math.Min(keys.Count, board.Silos.Length);
            if (keys.Count >= count && (!settled || (spread && listed.TrueForAll(r => r.Replica.Accepting && !r.Replica.Retiring))))
            {
                return keys;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{model}: {keys.Count} of {count} replicas ready after 120 s" +
                    (settled ? $", on {silos} of {board.Silos.Length} silos, {listed.Count - keys.Count} starting or retiring." : "."));
            }

            await Task.Delay(200);
        }
    }

    private static string SimOnlyConfig(int replicas) => string.Create(
        CultureInfo.InvariantCulture,
        $$"""{"max_batch_size": {{MaxBatch}}, "device_kinds": ["sim"], "min_replicas": {{replicas}}, "max_replicas": {{replicas}}}""");

    private static Dictionary<string, string?> SimSilo(string name, double speed, int devices, int fixedMicroseconds, int perItemMicroseconds) => new()
    {
        ["Cluster:SiloName"] = name,
        ["Cluster:Devices:Simulated:0:Profile"] = "bench",
        ["Cluster:Devices:Simulated:0:Count"] = devices.ToString(CultureInfo.InvariantCulture),
        ["Cluster:Devices:Simulated:0:FixedLatencyMicroseconds"] = fixedMicroseconds.ToString(CultureInfo.InvariantCulture),
        ["Cluster:Devices:Simulated:0:PerItemMicroseconds"] = perItemMicroseconds.ToString(CultureInfo.InvariantCulture),
        ["Cluster:Devices:Simulated:0:Speed"] = speed.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>The placement benchmark's figures, as written to placement.json.</summary>
public sealed record PlacementResults
{
    [JsonPropertyName("served_fraction")] public double ServedFraction { get; init; }

    [JsonPropertyName("throughput_vs_round_robin")] public double ThroughputVsRoundRobin { get; init; }

    [JsonPropertyName("throughput_vs_round_robin_at_90pct")] public double ThroughputVsRoundRobinAt90Percent { get; init; }

    [JsonPropertyName("saturated_router_per_s")] public double SaturatedRouterPerSecond { get; init; }

    [JsonPropertyName("saturated_round_robin_per_s")] public double SaturatedRoundRobinPerSecond { get; init; }

    [JsonPropertyName("capacity_per_s")] public double CapacityPerSecond { get; init; }

    [JsonPropertyName("p99_vs_unloaded")] public double P99VsUnloaded { get; init; }

    [JsonPropertyName("p50_ms")] public double P50Milliseconds { get; init; }

    [JsonPropertyName("p99_ms")] public double P99Milliseconds { get; init; }

    [JsonPropertyName("unloaded_p99_ms")] public double UnloadedP99Milliseconds { get; init; }

    [JsonPropertyName("offered_per_s")] public double OfferedPerSecond { get; init; }

    [JsonPropertyName("router_served_per_s")] public double RouterServedPerSecond { get; init; }

    [JsonPropertyName("round_robin_served_fraction")] public double RoundRobinServedFraction { get; init; }

    [JsonPropertyName("round_robin_served_per_s")] public double RoundRobinServedPerSecond { get; init; }

    [JsonPropertyName("round_robin_p99_ms")] public double RoundRobinP99Milliseconds { get; init; }

    [JsonPropertyName("scale_fraction_of_ideal")] public double ScaleFractionOfIdeal { get; init; }

    [JsonPropertyName("fleet_items_per_s")] public double FleetItemsPerSecond { get; init; }

    [JsonPropertyName("fleet_ideal_items_per_s")] public double FleetIdealItemsPerSecond { get; init; }

    [JsonPropertyName("fleet_devices_used")] public int FleetDevicesUsed { get; init; }

    [JsonPropertyName("fleet_replicas_per_silo")] public string FleetReplicasPerSilo { get; init; } = "";

    [JsonPropertyName("route_ns_at_1000_replicas")] public double RouteNanosecondsAt1000Replicas { get; init; }

    [JsonPropertyName("route_ns")] public Dictionary<string, double> RouteNanoseconds { get; init; } = [];
}
