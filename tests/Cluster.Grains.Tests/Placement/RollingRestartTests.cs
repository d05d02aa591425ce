using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Cluster.Client;
using Cluster.Contracts.Load;
using Cluster.Contracts.Tensors;
using Cluster.Tests.Shared;
using Xunit.Abstractions;

namespace Cluster.Grains.Tests.Placement;

/// <summary>
/// A rolling restart under load. Three silos cluster through a real <c>redis-server</c>, each with one simulated
/// device of the same speed, and a model with three replicas, one on each. Eight closed-loop callers send requests
/// through the SDK (a client finding the gateways through Redis) while silo 1 stops gracefully, a replacement silo
/// starts and reports its load, then silo 2, then silo 3. The silos run in this process, built by the silo's own
/// <c>ClusterHost</c>, and stop through the host's <c>StopAsync</c>: the path SIGTERM takes in a silo process (the
/// generic host's console lifetime calls it), so the drain, the gateways and Orleans' shutdown are the real ones.
/// </summary>
[Collection(SpeedTierCollection.Name)]
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const string Model = "rolling";

    [Fact]
    public async Task RollingRestartOfThreeSilos_UnderLoad_FailsNoRequest_AndAnswersEachOnce()
    {
        using var redis = await RedisServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync(["roll-1", "roll-2", "roll-3"], perSilo: _ => SimDevice(), redis: redis.ConnectionString);
        foreach (var silo in new[] { "roll-1", "roll-2", "roll-3" })
        {
            await WaitForBoardAsync(cluster, silo);
        }

        await SpeedTierCluster.AddModelAsync(cluster, Model, minReplicas: 3, maxReplicas: 3);
        var initial = await SpeedTierCluster.WaitForReplicasAsync(cluster, Model, r => r.Count == 3 && r.Select(x => x.Silo).Distinct().Count() == 3);
        Assert.Equal(["roll-1", "roll-2", "roll-3"], initial.Select(r => r.Silo).Order(StringComparer.Ordinal));

        using var executions = new ExecutionCounter(Model);
        await using var client = await ClusterConnection.ConnectAsync(new ClusterConnectionOptions
        {
            ClusterId = cluster.ClusterId,
            RedisConnectionString = redis.ConnectionString,
            GatewayListRefreshPeriod = TimeSpan.FromSeconds(1),
        });
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var load = new ClosedLoop(client.Inference, clock);
        var running = load.RunAsync(callers: 8, stop.Token);
        await Task.Delay(1000);

        var windows = new List<(string Silo, TimeSpan From, TimeSpan To)>();
        var stops = new List<TimeSpan>();
        foreach (var name in new[] { "roll-1", "roll-2", "roll-3" })
        {
            var from = clock.Elapsed;
            await cluster.StopSiloAsync(0);
            stops.Add(clock.Elapsed - from);
            var after = await SpeedTierCluster.ReplicasAsync(cluster, Model);
            Assert.DoesNotContain(after, r => r.Silo == name);
            var replacement = name + "b";
            await cluster.AddSiloAsync(replacement, SimDevice());
            await WaitForBoardAsync(cluster, replacement);
            windows.Add((name, from, clock.Elapsed));
            await Task.Delay(500);
        }

        await Task.Delay(500);
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        output.WriteLine($"sent {load.Sent}, succeeded {load.Succeeded}, executions {executions.Successes}, failed {load.Failures.Count}; " +
            $"stops took {string.Join(", ", stops.Select(t => $"{t.TotalSeconds:0.0} s"))}; succeeded during each restart: " +
            string.Join(", ", windows.Select(w => $"{w.Silo} {load.SucceededBetween(w.From, w.To)} in {(w.To - w.From).TotalSeconds:0.0} s")));
        foreach (var failure in load.Failures.Take(20))
        {
            output.WriteLine(failure);
        }

        Assert.Empty(load.Failures);
        Assert.True(load.Sent > 300, $"{load.Sent} requests sent");
        Assert.Equal(load.Sent, load.Succeeded);
        Assert.Empty(load.WrongAnswers);
        // Every answer came from exactly one execution: the replicas counted as many successes as the callers got.
        Assert.Equal(load.Succeeded, executions.Successes);
        // Each silo left within the host's shutdown timeout (8 s), drain included.
        Assert.All(stops, t => Assert.True(t < TimeSpan.FromSeconds(8), $"a silo took {t.TotalSeconds:0.0} s to stop"));
        foreach (var (silo, from, to) in windows)
        {
            var during = load.SucceededBetween(from, to);
            Assert.True(during > 20, $"{during} requests succeeded while {silo} restarted ({from.TotalSeconds:0.0}-{to.TotalSeconds:0.0} s)");
        }

        // None is left on the silos that stopped; spreading may have moved one to the silo that joined last.
        var final = await SpeedTierCluster.WaitForReplicasAsync(cluster, Model, r => r.Count == 3);
        Assert.All(final, r => Assert.EndsWith("b", r.Silo, StringComparison.Ordinal));
    }

    private static async Task WaitForBoardAsync(InProcessCluster cluster, string silo)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await cluster.Connection.Grains.GetGrain<IClusterLoadGrain>(0).GetAsync()).Silos.Any(s => s.Silo == silo))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{silo} did not report its load within 30 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>Batch latency 1 ms + 2 ms per item, batches of up to 4: about 440 items/s per device.</summary>
    private static Dictionary<string, string?> SimDevice() => new()
    {
        ["Cluster:Devices:Simulated:0:Profile"] = "roll",
        ["Cluster:Devices:Simulated:0:FixedLatencyMicroseconds"] = "1000",
        ["Cluster:Devices:Simulated:0:PerItemMicroseconds"] = "2000",
        ["Cluster:Devices:Simulated:0:Speed"] = "1",
    };

    /// <summary>Callers each sending one request after another, each with its own id, recording every outcome.</summary>
    private sealed class ClosedLoop(InferenceClient client, Stopwatch clock)
    {
        private readonly ConcurrentQueue<TimeSpan> _successes = new();
        private long _sent;

        public long Sent => Interlocked.Read(ref _sent);

        public long Succeeded => _successes.Count;

        public ConcurrentQueue<string> Failures { get; } = new();

        public ConcurrentQueue<string> WrongAnswers { get; } = new();

        public long SucceededBetween(TimeSpan from, TimeSpan to) => _successes.Count(t => t >= from && t <= to);

        public Task RunAsync(int callers, CancellationToken stop) => Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"{caller}-{n}");
                Interlocked.Increment(ref _sent);
                try
                {
                    var response = await client.InferAsync(Model, [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)], id: id);
                    if (response.Id != id)
                    {
                        WrongAnswers.Enqueue($"{id} answered as {response.Id}");
                    }

                    _successes.Enqueue(clock.Elapsed);
                }
                catch (Exception e)
                {
                    Failures.Enqueue($"{clock.Elapsed.TotalSeconds:0.00} s {id}: {e.GetType().Name}: {e.Message}");
                }
            }
        }));
    }

    /// <summary>Sums <c>nv_inference_request_success</c> of one model over every silo in this process.</summary>
    private sealed class ExecutionCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _successes;

        public ExecutionCounter(string model)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "nv_inference_request_success")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "model" && Equals(tag.Value, model))
                    {
                        Interlocked.Add(ref _successes, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Successes => Interlocked.Read(ref _successes);

        public void Dispose() => _listener.Dispose();
    }
}
