using System.Diagnostics;
using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Load;
using Cluster.Contracts.Models;
using Cluster.Contracts.Scaling;
using Cluster.Grains.Drain;
using Cluster.Grains.Load;
using Cluster.Grains.Placement;
using Microsoft.Extensions.Logging;

namespace Cluster.Grains.Scaling;

/// <summary>
/// Sets each served model version's replica count every <see cref="TickInterval"/> with
/// <see cref="ReplicaCountPolicy"/>. A new replica is placed first (one at a time, so placement sees the
/// previous one) and warmed up in the background; routers send it traffic only once it reports ready.
/// Replicas warming up that something else started (a first request, the silo's start-up) count too.
/// A replica on a draining silo (marked by the operator, or leaving because it shuts down) gets a replacement
/// placed elsewhere, and once that is warm the old one finishes its queue and stops. Removing a replica takes one from the silo with the most replicas of
/// the version, the one with the least capacity there. Replicas crowded onto one silo while another could host
/// one and holds none are spread the same way (<see cref="SpreadAsync"/>). While its own silo leaves, the
/// autoscaler stands down: its timer does nothing, and only the leaving silo's own request
/// (<see cref="ScaleNowAsync"/>, to place replacements elsewhere) runs a pass; a pass does nothing when every silo is leaving.
/// </summary>
public sealed partial class ReplicaAutoscalerGrain(ClusterLoadView board, SiloLeaving leaving, ILocalSiloDetails localSilo, TimeProvider time,
    ILogger<ReplicaAutoscalerGrain> logger) : Grain, IReplicaAutoscalerGrain
{
    /// <summary>How often the autoscaler looks at the board.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a started replica counts while the board does not list it yet.</summary>
    private static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(3);

    /// <summary>How long a placement waits for the board to list the new replica before the next placement.</summary>
    private static readonly TimeSpan BoardListingWait = TimeSpan.FromSeconds(2);

    private readonly Dictionary<(string Model, long Version), ScalingState> _states = [];
    private readonly Dictionary<string, (Task Warm, DateTimeOffset Started)> _starting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> _retiring = new(StringComparer.Ordinal);
    private readonly HashSet<string> _replacing = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Model, long Version), int> _nextIndex = [];

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TickInterval, TickInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task KeepRunningAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public Task ScaleNowAsync() => ScaleOnceAsync();

    private Task TickAsync(CancellationToken cancellationToken) => leaving.IsLeaving ? Task.CompletedTask : ScaleOnceAsync();

    private async Task ScaleOnceAsync()
    {
        var load = board.Current;
        if (load.Silos.Length == 0 || !load.Complete)
        {
            return;
        }

        var leavingSilos = await GrainFactory.GetGrain<IClusterAdminGrain>(0).GetLeavingSilosAsync();
        if (load.Silos.All(s => leavingSilos.Contains(s.Silo) || (leaving.IsLeaving && s.Silo == localSilo.Name)))
        {
            // Every silo is shutting down: there is nowhere to place a replica.
            return;
        }

        // An experiment arm's replicas start on its first request and are stopped with the experiment, not scaled.
        var listed = load.Silos.SelectMany(s => s.Replicas.Where(r => !ReplicaKey.IsArm(r.Key)).Select(r => (Silo: s.Silo, Replica: r))).ToList();
        Forget(listed.Where(r => r.Replica.Accepting).Select(r => r.Replica.Key).ToHashSet(StringComparer.Ordinal));
        var models = await GrainFactory.GetGrain<IModelRegistryGrain>(0).GetModelsAsync();
        var draining = (await GrainFactory.GetGrain<IClusterAdminGrain>(0).GetDrainingSilosAsync()).ToHashSet(StringComparer.Ordinal);
        var anyOpen = load.Silos.Any(s => !draining.Contains(s.Silo));
        var served = new HashSet<(string, long)>();
        foreach (var model in models.Where(m => !m.Unloaded && m.Error is null))
        {
            foreach (var version in model.ServedVersions.Where(v => v.IsLoadable))
            {
                served.Add((model.Name, version.Version));
                var replicas = listed.Where(r => r.Replica.Model == model.Name && r.Replica.Version == version.Version).ToList();
                await ScaleAsync(model.Name, version, model.Config, replicas, draining, anyOpen);
            }
        }

        foreach (var (_, replica) in listed.Where(r => !served.Contains((r.Replica.Model, r.Replica.Version))))
        {
            Retire(replica.Key);
        }

        foreach (var gone in _states.Keys.Where(k => !served.Contains(k)).ToList())
        {
            _states.Remove(gone);
        }
    }

    private async Task ScaleAsync(string model, ModelVersionDescriptor served, ModelConfig config, List<(string Silo, ReplicaLoad Replica)> replicas,
        HashSet<string> draining, bool anyOpen)
    {
        var version = served.Version;
        var live = replicas.Where(r => r.Replica.Accepting && !_retiring.ContainsKey(r.Replica.Key)).ToList();
        var prefix = string.Create(CultureInfo.InvariantCulture, $"{model}:{version}/");
        var starting = _starting.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal) && !live.Exists(r => r.Replica.Key == k))
            + replicas.Count(r => !r.Replica.Accepting && !r.Replica.Retiring && !_retiring.ContainsKey(r.Replica.Key)
                && !_starting.ContainsKey(r.Replica.Key));
        if (anyOpen)
        {
            foreach (var (_, old) in live.Where(r => draining.Contains(r.Silo) && !_replacing.Contains(r.Replica.Key)))
            {
                _replacing.Add(old.Key);
                var replacement = await PlaceAsync(model, version, replicas);
                _starting[replacement.Key] = (ReplaceAsync(replacement.Warm, old.Key), time.GetUtcNow());
                starting++;
            }
        }

        var serving = live.Where(r => !draining.Contains(r.Silo) || !anyOpen).ToList();
        var current = serving.Count + starting;
        var state = _states.TryGetValue((model, version), out var known) ? known : _states[(model, version)] = new ScalingState();
        var wanted = ReplicaCountPolicy.Decide(config, current, live.Sum(r => r.Replica.Queued + r.Replica.RunningBatches), state, time.GetUtcNow());
        for (var i = current; i < wanted; i++)
        {
            var added = await PlaceAsync(model, version, replicas);
            _starting[added.Key] = (added.Warm, time.GetUtcNow());
            LogScaled(model, version, "added", added.Key, wanted);
        }

        var victims = serving
            .OrderByDescending(r => serving.Count(s => s.Silo == r.Silo))
            .ThenBy(r => r.Replica.Capacity)
            .ThenByDescending(r => ReplicaKey.Parse(r.Replica.Key).Replica);
        foreach (var (_, victim) in victims.Take(Math.Max(0, current - wanted)))
        {
            Retire(victim.Key);
            LogScaled(model, version, "removed", victim.Key, wanted);
        }

        if (current == wanted && starting == 0 && !_replacing.Any(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            await SpreadAsync(PlacementRequest.ForReplica(model, version, config, served.SizeBytes), replicas, serving, draining);
        }
    }

    /// <summary>
    /// Moves one replica of the version from a silo holding two or more of them to a silo that could host it and
    /// holds none, when that silo is placement's first choice: the replacement is placed and warmed first, then
    /// the old one retires. Replicas crowd onto one silo when a silo joins after they were placed, or when a lost
    /// silo's replicas are activated again by requests arriving through one gateway; every device the model may
    /// use should carry some of its load. One move per version at a time.
    /// </summary>
    private async Task SpreadAsync(PlacementRequest request, List<(string Silo, ReplicaLoad Replica)> replicas,
        List<(string Silo, ReplicaLoad Replica)> serving, HashSet<string> draining)
    {
        var crowded = serving.GroupBy(r => r.Silo, StringComparer.Ordinal).Where(g => g.Count() >= 2).MaxBy(g => g.Count());
        var best = ReplicaPlacementScoring.Rank(request, board.Current.Silos, draining).FirstOrDefault();
        if (crowded is null || best is null || serving.Exists(r => r.Silo == best.Silo))
        {
            return;
        }

        var old = crowded.OrderBy(r => r.Replica.Capacity).ThenByDescending(r => ReplicaKey.Parse(r.Replica.Key).Replica).First().Replica.Key;
        _replacing.Add(old);
        var replacement = await PlaceAsync(request.Model, request.Version, replicas);
        _starting[replacement.Key] = (ReplaceAsync(replacement.Warm, old), time.GetUtcNow());
        LogSpread(old, crowded.Key, replacement.Key, best.Silo);
    }

    /// <summary>
    /// Activates a replica under an index never used before (placement happens here) and starts its warm-up.
    /// Indices are not reused, so a retired replica's key, which may still be in a router's table, never names a new one.
    /// </summary>
    private async Task<(string Key, Task Warm)> PlaceAsync(string model, long version, List<(string Silo, ReplicaLoad Replica)> replicas)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture, $"{model}:{version}/");
        var used = replicas.Select(r => r.Replica.Key).Concat(_starting.Keys).Concat(_retiring.Keys)
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => ReplicaKey.Parse(k).Replica + 1)
            .DefaultIfEmpty(0)
            .Max();
        var index = Math.Max(used, _nextIndex.GetValueOrDefault((model, version)));
        _nextIndex[(model, version)] = index + 1;
        var key = new ReplicaKey(model, version, index).ToString();
        var replica = GrainFactory.GetGrain<IModelBatcherGrain>(key);
        await replica.GetStatusAsync();
        var warm = replica.WarmAsync();

        // The next placement must see this replica, or it may pick the same silo: wait (briefly) until the
        // board lists it. A replica activated elsewhere under this index (a load warms replica 0) is waited for too.
        var listedBy = Stopwatch.GetTimestamp() + (long)(BoardListingWait.TotalSeconds * Stopwatch.Frequency);
        while (!warm.IsCompleted && !board.Current.Silos.Any(s => s.Replicas.Any(r => r.Key == key)) && Stopwatch.GetTimestamp() < listedBy)
        {
            await Task.Delay(100);
        }

        return (key, warm);
    }

    private async Task ReplaceAsync(Task warm, string old)
    {
        try
        {
            await warm;
            Retire(old);
            await _retiring[old];
        }
        finally
        {
            _replacing.Remove(old);
        }
    }

    private void Retire(string key)
    {
        if (!_retiring.ContainsKey(key))
        {
            _retiring[key] = GrainFactory.GetGrain<IModelBatcherGrain>(key).StopAsync();
        }
    }

    /// <summary>Drops finished work: retirements done, and starts that the board lists as accepting, that failed, or that are past their grace.</summary>
    private void Forget(HashSet<string> accepting)
    {
        var now = time.GetUtcNow();
        foreach (var (key, (warm, started)) in _starting.ToList())
        {
            if (warm.IsFaulted || (warm.IsCompleted && (accepting.Contains(key) || now - started > StartGrace)))
            {
                if (warm.Exception is { } error)
                {
                    LogStartFailed(key, error.GetBaseException().Message);
                }

                _starting.Remove(key);
            }
        }

        foreach (var (key, stop) in _retiring.ToList())
        {
            if (stop.IsCompleted)
            {
                _retiring.Remove(key);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Autoscaler {Action} replica {Key} of {Model}:{Version} (wanted {Wanted})")]
    private partial void LogScaled(string model, long version, string action, string key, int wanted);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Autoscaler moves replica {Old} off {Crowded}, which holds several, to {New} for {Empty}, which holds none")]
    private partial void LogSpread(string old, string crowded, string @new, string empty);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {Key} did not start: {Error}")]
    private partial void LogStartFailed(string key, string error);
}
