using System.Collections.Concurrent;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Telemetry;

namespace Cluster.Inference.Execution;

/// <summary>
/// The session instances of one model version on one device (Triton's instance_count), each with its
/// own thread and warmed up before the pool is returned. A batch runs on whichever instance is free.
/// </summary>
public sealed class ModelInstancePool : IDisposable
{
    private readonly (ILoadedModel Model, DeviceExecutor Executor)[] _instances;
    private readonly ConcurrentQueue<int> _free;
    private readonly SemaphoreSlim _available;

    private readonly DeviceUsage? _usage;
    private readonly MeasuredThroughput? _throughput;
    private readonly TensorData[]? _probeInputs;
    private readonly IReadOnlyList<string> _outputNames;
    private readonly string _deviceName;
    private readonly bool _loneRequestsOnCaller;
    private readonly TimeProvider _time;

    /// <summary>
    /// The longest recent run (on average) for a lone request to run on the thread that brought it: a thread-pool thread held longer
    /// would be missed.
    /// </summary>
    private static readonly TimeSpan LoneRunLimit = TimeSpan.FromMilliseconds(1);

    /// <summary>The recent batches' mean size and run time in seconds (each batch weighs an eighth); racy updates only blur them.</summary>
    private double _recentBatchSize = 1;
    private double _recentRunSeconds;

    /// <summary>When the last run ended (a timestamp of <see cref="_time"/>; 0 before the first).</summary>
    private long _lastRunEnded;

    /// <summary>Cancelled (and replaced) when a batch overruns its run timeout: gives up the batches waiting for an instance.</summary>
    private CancellationTokenSource _hung = new();

    private ModelInstancePool(string deviceName, (ILoadedModel, DeviceExecutor)[] instances, DeviceUsage? usage, MeasuredThroughput? throughput,
        TensorData[]? probeInputs, IReadOnlyList<string> outputNames, bool loneRequestsOnCaller, TimeProvider time)
    {
        _time = time;
        _loneRequestsOnCaller = loneRequestsOnCaller;
        _throughput = throughput;
        _deviceName = deviceName;
        _probeInputs = probeInputs;
        _outputNames = outputNames;
        _instances = instances;
        _usage = usage;
        _usage?.AddMemory(WeightBytes);
        _free = new ConcurrentQueue<int>(Enumerable.Range(0, instances.Length));
        _available = new SemaphoreSlim(instances.Length);
    }

    /// <summary>Session instances in the pool.</summary>
    public int Count => _instances.Length;

    /// <summary>Weight bytes held by all instances.</summary>
    public long WeightBytes => _instances.Sum(i => i.Model.WeightBytes);

    /// <summary>Warm-up requests that failed without failing the load (the default warm-up), with the reason.</summary>
    public IReadOnlyList<string> SkippedWarmups { get; private init; } = [];

    /// <summary>
    /// Loads <paramref name="count"/> instances with <paramref name="load"/>, each on its own thread, and runs every
    /// warm-up request on each. A required warm-up that fails disposes what was loaded and throws. Warm-up runs, but
    /// for each instance's first (which pays one-time costs: allocation, kernel choice), and then every batch are
    /// recorded in <paramref name="throughput"/>. With <paramref name="loneRequestsOnCaller"/> a lone request may run on the thread
    /// that brought it (<see cref="RunAsync"/>): for sessions any thread may run, as ONNX Runtime's CPU provider's. Runs are timed
    /// with <paramref name="time"/> (the system's clock unless given).
    /// </summary>
    public static async Task<ModelInstancePool> CreateAsync(
        string deviceName, int count, Func<ILoadedModel> load, IReadOnlyList<WarmupRequest> warmups, IReadOnlyList<string> outputNames,
            DeviceUsage? usage = null, MeasuredThroughput? throughput = null, bool loneRequestsOnCaller = false, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var instances = new List<(ILoadedModel, DeviceExecutor)>();
        var skipped = new List<string>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var executor = new DeviceExecutor($"{deviceName}#{i}");
                ILoadedModel model;
                try
                {
                    model = await executor.RunAsync(load);
                }
                catch
                {
                    executor.Dispose();
                    throw;
                }

                instances.Add((model, executor));
                var firstRun = true;
                foreach (var warmup in warmups)
                {
                    try
                    {
                        await executor.RunAsync(() => RunWarmup(model, warmup, outputNames, firstRun ? null : throughput, throughput, time));
                        firstRun = false;
                    }
                    catch (Exception e) when (!warmup.Required)
                    {
                        skipped.Add($"{warmup.Name}: {e.Message}");
                    }
                }
            }
        }
        catch
        {
            Dispose(instances);
            throw;
        }

        var probe = warmups.FirstOrDefault(w => !skipped.Exists(s => s.StartsWith(w.Name + ":", StringComparison.Ordinal)));
        return new ModelInstancePool(deviceName, [.. instances], usage, throughput, probe?.Inputs, outputNames, loneRequestsOnCaller, time)
        {
            SkippedWarmups = skipped,
        };
    }

    /// <summary>
    /// Runs a batch on a free instance, waiting for one if all are busy. <paramref name="runTimeout"/> counts from the
    /// moment an instance takes the batch, not while it waits for one: past it the batch throws TimeoutException (its
    /// instance is left to finish it), and the batches still waiting are given up, failing with DeviceFaultException
    /// without ever running, so a caller may retry them elsewhere without running any twice.
    /// </summary>
    /// <remarks>
    /// While requests come one at a time (a batch of one, after batches that averaged under 1.5 requests) there is nothing to
    /// gather, and a batch of one may run on the thread that brought it when its instance is idle (<see cref="DeviceExecutor"/>),
    /// sparing the two thread wake-ups of the trip through the device thread, as long as recent runs took under
    /// <see cref="LoneRunLimit"/> (the wake-ups matter to short runs, and a long one would hold a thread-pool thread). Brought by a grain
    /// turn, it runs within the turn only when the last run ended longer ago than a recent run took: a lone caller's next request comes a
    /// round trip after its answer, while calls queued behind a turn come straight after its run, and those run after their turns, so
    /// the activation hands them all to the batcher. Under load, batches of several keep to the device thread, whose wake-up lets the
    /// next batch gather.
    /// </remarks>
    public async Task<BatchResult> RunAsync(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames, TimeSpan runTimeout)
    {
        try
        {
            await _available.WaitAsync(Volatile.Read(ref _hung).Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new DeviceFaultException($"A batch on '{_deviceName}' did not finish in time, so the batches waiting behind it were given up; this one did " +
                "not run.");
        }

        _free.TryDequeue(out var index);
        var recent = Volatile.Read(ref _recentBatchSize);
        Volatile.Write(ref _recentBatchSize, ((recent * 7) + requests.Count) / 8);
        var recentRun = Volatile.Read(ref _recentRunSeconds);
        var lone = _loneRequestsOnCaller && requests.Count == 1 && recent < 1.5 && recentRun < LoneRunLimit.TotalSeconds;
        var run = RunOnInstanceAsync(index, requests, outputNames, onCaller: lone,
            atOnceInATurn: lone && _time.GetElapsedTime(Volatile.Read(ref _lastRunEnded)).TotalSeconds > recentRun);
        try
        {
            return await run.WaitAsync(runTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Interlocked.Exchange(ref _hung, new CancellationTokenSource()).Cancel();
            throw;
        }
    }

    /// <summary>Runs a batch on the instance taken for it and frees the instance when the run ends, however late.</summary>
    private async Task<BatchResult> RunOnInstanceAsync(int index, IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames, bool onCaller,
        bool atOnceInATurn)
    {
        try
        {
            var (model, executor) = _instances[index];
            return await executor.RunAsync(() =>
            {
                var started = _time.GetTimestamp();
                var result = model.RunBatch(requests, outputNames);
                var ended = _time.GetTimestamp();
                var elapsed = _time.GetElapsedTime(started, ended);
                _usage?.RecordBusy(elapsed);
                _throughput?.Record(requests.Count, elapsed);
                Volatile.Write(ref _recentRunSeconds, ((Volatile.Read(ref _recentRunSeconds) * 7) + elapsed.TotalSeconds) / 8);
                Volatile.Write(ref _lastRunEnded, ended);
                return result;
            }, onCaller, atOnceInATurn).ConfigureAwait(false);
        }
        finally
        {
            _free.Enqueue(index);
            _available.Release();
        }
    }

    /// <summary>The first instance's model (a generation model has one instance, driven by its engine).</summary>
    public ILoadedModel FirstModel => _instances[0].Model;

    /// <summary>Runs <paramref name="work"/> on the first instance's thread, counted as device time like a batch.</summary>
    public Task<T> RunOnFirstAsync<T>(Func<T> work) => _instances[0].Executor.RunAsync(() =>
    {
        var started = _time.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            _usage?.RecordBusy(_time.GetElapsedTime(started));
        }
    });

    /// <summary>Runs the first warm-up request that succeeded at load once, as a health probe of the device; nothing when none did.</summary>
    public Task ProbeAsync() => _probeInputs is null ? Task.CompletedTask : RunAsync([_probeInputs], _outputNames, Timeout.InfiniteTimeSpan);

    /// <inheritdoc />
    /// <remarks>
    /// Returns at once: each session is disposed on its own thread after the batches already queued
    /// there. The semaphore is left to the collector so a batch finishing after this still releases it.
    /// </remarks>
    public void Dispose()
    {
        _usage?.AddMemory(-WeightBytes);
        Dispose(_instances);
    }

    /// <summary>Runs a warm-up request its count of times, recording the first run in <paramref name="firstRunTo"/> and the others in <paramref
    /// name="throughput"/>.</summary>
    private static bool RunWarmup(ILoadedModel model, WarmupRequest warmup, IReadOnlyList<string> outputNames, MeasuredThroughput? firstRunTo,
        MeasuredThroughput? throughput, TimeProvider time)
    {
        for (var i = 0; i < warmup.Count; i++)
        {
            var started = time.GetTimestamp();
            model.RunBatch([warmup.Inputs], outputNames);
            (i == 0 ? firstRunTo : throughput)?.Record(1, time.GetElapsedTime(started));
        }

        return true;
    }

    private static void Dispose(IEnumerable<(ILoadedModel Model, DeviceExecutor Executor)> instances)
    {
        foreach (var (model, executor) in instances)
        {
            // Queued behind any running batch, so a session is never disposed mid-run.
            _ = executor.RunAsync(() =>
            {
                model.Dispose();
                return true;
            });
            executor.Dispose();
        }
    }
}
