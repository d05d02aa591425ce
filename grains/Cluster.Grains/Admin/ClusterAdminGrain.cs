using System.Diagnostics;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Grains.Load;
using Cluster.Grains.State;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cluster.Grains.Admin;

/// <summary>
/// The admin API: reads silos from Orleans' management grain, devices from each silo's inventory,
/// models from the registry and their replicas; model decisions go to the registry, drained silos are
/// kept here. Both are written to grain storage before they take effect.
/// </summary>
public sealed class ClusterAdminGrain(
    IClusterMembershipService membership,
    IServiceProvider services,
    ClusterLoadView board,
    TimeProvider time,
    [PersistentState("admin", ClusterState.StorageName)] IPersistentState<AdminIntent> intent) : Grain, IClusterAdminGrain
{
    /// <summary>A replica that answered a request this recently still has traffic.</summary>
    public static readonly TimeSpan RecentTraffic = TimeSpan.FromMinutes(1);

    /// <summary>Each replica's request count at the previous reading, for requests per second.</summary>
    private readonly Dictionary<string, (long Requests, long Timestamp)> _previousCounts = [];

    /// <summary>Silos shutting down, by address, with their names: draining until membership declares them dead.</summary>
    private readonly Dictionary<SiloAddress, string> _leaving = [];

    private IModelRegistryGrain Registry => GrainFactory.GetGrain<IModelRegistryGrain>(0);

    /// <inheritdoc />
    public async Task<ClusterStatus> GetStatusAsync()
    {
        var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        var metadata = services.GetService<ISiloMetadataCache>();
        var silos = hosts.Select(h => new SiloView
        {
            Name = h.SiloName,
            Address = h.SiloAddress.ToParsableString(),
            State = h.Status.ToString(),
            HostName = h.HostName ?? "",
            StartedUtc = h.StartTime,
            Draining = intent.State.DrainingSilos.Contains(h.SiloName) || _leaving.ContainsKey(h.SiloAddress),
            Metadata = MetadataOf(metadata, h.SiloAddress),
        });
        return new ClusterStatus { Silos = [.. silos.OrderBy(s => s.State == nameof(SiloStatus.Active) ? 0 : 1).ThenBy(s => s.Name, StringComparer.Ordinal)] };
    }

    /// <inheritdoc />
    public async Task<DeviceView[]> GetDevicesAsync()
    {
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name);
        var perSilo = await Task.WhenAll(silos.Select(s => GrainFactory.GetGrain<ISiloInventoryGrain>(s).GetDevicesAsync()));
        return [.. perSilo.SelectMany(d => d).OrderBy(d => d.Status.Key, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<ModelView[]> GetModelsAsync() => await Task.WhenAll((await Registry.GetModelsAsync()).Select(ViewAsync));

    /// <inheritdoc />
    public async Task<ModelView> GetModelAsync(string model) => await ViewAsync(await FindAsync(model));

    /// <inheritdoc />
    public async Task<ModelView> LoadAsync(string model, long? version) => await ViewAsync(version is { } v
        ? await Registry.SetVersionLoadedAsync(model, v, loaded: true)
        : await Registry.SetLoadedAsync(model, loaded: true));

    /// <inheritdoc />
    public async Task<ModelView> UnloadAsync(string model, long? version, bool force)
    {
        var before = await FindAsync(model);
        if (version is { } v && !Array.Exists(before.Versions, d => d.Version == v))
        {
            throw new ModelNotFoundException($"Model '{model}' has no version {v}; versions: {string.Join(", ", before.Versions.Select(d => d.Version))}.");
        }

        var served = Served(before);
        var removing = version is { } one ? served.Where(s => s == one).ToArray() : served;
        if (!force)
        {
            await RefuseIfTrafficAsync(before, removing, leavesNone: removing.Length > 0 && removing.Length == served.Length);
        }

        var after = version is { } chosen
            ? await Registry.SetVersionLoadedAsync(model, chosen, loaded: false)
            : await Registry.SetLoadedAsync(model, loaded: false);
        await StopNoLongerServedAsync(before, after);
        return await ViewAsync(after);
    }

    /// <inheritdoc />
    public async Task<VariantReport[]> QuantizeAsync(string model, long? version, string variant)
    {
        var descriptor = await FindAsync(model);
        var chosen = version ?? (Served(descriptor) is { Length: > 0 } served
            ? served.Max()
            : throw new OperationRefusedException($"Model '{model}' serves no version; name one with --version."));
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name).Order(StringComparer.Ordinal);
        var reports = new List<VariantReport>();
        foreach (var silo in silos)
        {
            // One after another: silos sharing a repository folder write the same bytes in turn, never at once.
            reports.Add(await GrainFactory.GetGrain<IVariantWriterGrain>(silo).WriteAsync(model, chosen, variant));
        }

        return [.. reports];
    }

    /// <inheritdoc />
    public async Task<ReplicaView[]> WarmAsync(string model, long? version)
    {
        var descriptor = await FindAsync(model);
        var served = Served(descriptor).Where(v => version is null || v == version).ToArray();
        if (version is { } wanted && served.Length == 0)
        {
            throw new OperationRefusedException($"Model '{model}' does not serve version {wanted}; load it first. Served " +
                $"versions: {string.Join(", ", Served(descriptor))}.");
        }

        await Task.WhenAll(served.Select(v => Replica(model, v).WarmAsync()));
        return await Task.WhenAll(served.Select(v => ReplicaAsync(FirstReplica(model, v))));
    }

    /// <inheritdoc />
    public async Task<ModelView> SetVersionPolicyAsync(string model, VersionPolicy policy)
    {
        var before = await FindAsync(model);
        var after = await Registry.SetVersionPolicyAsync(model, policy);
        await StopNoLongerServedAsync(before, after);
        return await ViewAsync(after);
    }

    /// <inheritdoc />
    public async Task<ModelView> SetTrafficSplitAsync(string model, VersionWeight[] split) =>
        await ViewAsync(await Registry.SetTrafficSplitAsync(model, split));

    /// <inheritdoc />
    public async Task<ModelView> SetReplicaBoundsAsync(string model, int min, int max) =>
        await ViewAsync(await Registry.SetReplicaBoundsAsync(model, min, max));

    /// <inheritdoc />
    public async Task<Experiment> StartExperimentAsync(Experiment experiment)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var started = await Registry.StartExperimentAsync(experiment);
        await GrainFactory.GetGrain<IExperimentGrain>(started.Model).WatchAsync();
        return started;
    }

    /// <inheritdoc />
    public Task<ExperimentReport> GetExperimentAsync(string model) => GrainFactory.GetGrain<IExperimentGrain>(model).GetReportAsync();

    /// <inheritdoc />
    public async Task<ModelView> EndExperimentAsync(string model, string? promotedArm)
    {
        var ended = await GrainFactory.GetGrain<IExperimentGrain>(model).EndAsync(promotedArm);
        if (promotedArm is not null)
        {
            // The model's replicas restart one at a time under the promoted settings; requests refused meanwhile go to the others.
            // Each served version's first replica is named too: the board may not list a replica started since its last report.
            var listed = board.Current.Silos.SelectMany(s => s.Replicas).Where(r => r.Model == model && !ReplicaKey.IsArm(r.Key)).Select(r => r.Key);
            foreach (var key in listed.Concat(Served(ended).Select(v => FirstReplica(model, v))).Distinct(StringComparer.Ordinal))
            {
                var replica = GrainFactory.GetGrain<IModelBatcherGrain>(key);
                await replica.StopAsync();
                await replica.WarmAsync();
            }
        }

        return await ViewAsync(ended);
    }

    /// <inheritdoc />
    public async Task<ClusterStatus> SetDrainingAsync(string silo, bool draining)
    {
        var known = membership.CurrentSnapshot.Members.Values.Select(m => m.Name).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (!known.Contains(silo))
        {
            throw new OperationRefusedException($"Silo '{silo}' is not in the cluster; silos: {string.Join(", ", known)}.");
        }

        var previous = intent.State;
        var names = previous.DrainingSilos.Where(s => s != silo).ToList();
        if (draining)
        {
            names.Add(silo);
        }

        intent.State = new AdminIntent { DrainingSilos = names };
        try
        {
            await intent.WriteStateAsync();
        }
        catch (Exception e) when (e is not InferenceException)
        {
            intent.State = previous;
            throw new ClusterStateException($"Marking silo '{silo}' {(draining ? "draining" : "not draining")} could not be saved, so nothing " +
                $"changed: {e.Message}");
        }

        return await GetStatusAsync();
    }

    /// <inheritdoc />
    public Task<string[]> GetDrainingSilosAsync() =>
        Task.FromResult(intent.State.DrainingSilos.Union(Leaving(), StringComparer.Ordinal).ToArray());

    /// <inheritdoc />
    public Task<string[]> GetLeavingSilosAsync() => Task.FromResult(Leaving().ToArray());

    /// <inheritdoc />
    public Task MarkLeavingAsync(string silo, SiloAddress address)
    {
        _leaving[address] = silo;
        return Task.CompletedTask;
    }

    /// <summary>The leaving silos' names, once those membership declared dead are forgotten.</summary>
    private IEnumerable<string> Leaving()
    {
        var snapshot = membership.CurrentSnapshot;
        foreach (var gone in _leaving.Keys.Where(a => !snapshot.Members.TryGetValue(a, out var member) || member.Status == SiloStatus.Dead).ToList())
        {
            _leaving.Remove(gone);
        }

        return _leaving.Values;
    }

    private static long[] Served(ModelDescriptor model) =>
        model.Unloaded || model.Error is not null ? [] : [.. model.ServedVersions.Where(v => v.IsLoadable).Select(v => v.Version)];

    private static Dictionary<string, string> MetadataOf(ISiloMetadataCache? cache, SiloAddress silo)
    {
        try
        {
            return cache?.GetSiloMetadata(silo).Metadata.ToDictionary(StringComparer.Ordinal) ?? [];
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
        {
            return [];
        }
    }

    /// <summary>Refuses to take a version out of the traffic split, or the last served versions away while they have traffic.</summary>
    private async Task RefuseIfTrafficAsync(ModelDescriptor model, long[] removing, bool leavesNone)
    {
        foreach (var weight in model.TrafficSplit)
        {
            if (removing.Contains(weight.Version) && !leavesNone)
            {
                throw new OperationRefusedException(
                    $"Model '{model.Name}' version {weight.Version} takes {weight.Percent}% of the traffic split " +
                        $"({TrafficSplit.Format(model.TrafficSplit)}); change the split first, or force the unload (--force; the split then leaves it out).");
            }
        }

        if (!leavesNone)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var version in removing)
        {
            var replica = Replica(model.Name, version);
            if (!(await replica.GetStatusAsync()).Ready)
            {
                continue;
            }

            var last = (await replica.GetStatisticsAsync()).LastInferenceMs;
            if (last > 0 && now - last < RecentTraffic.TotalMilliseconds)
            {
                throw new OperationRefusedException(
                    $"Model '{model.Name}' version {version} is the last served version and answered a request {(now - last) / 1000.0:0.#} s ago; unloading " +
                        "it would fail its traffic. Force the unload (--force) to do it anyway.");
            }
        }
    }

    private async Task StopNoLongerServedAsync(ModelDescriptor before, ModelDescriptor after)
    {
        var stillServed = Served(after);
        await Task.WhenAll(Served(before).Where(v => !stillServed.Contains(v)).Select(v => Replica(before.Name, v).StopAsync()));
    }

    private async Task<ModelDescriptor> FindAsync(string model)
    {
        var models = await Registry.GetModelsAsync();
        return Array.Find(models, m => m.Name == model) ?? throw (ModelName.IsValid(model)
            ? new ModelNotFoundException($"Model '{model}' is not in the repository; models: {string.Join(", ", models.Select(m => m.Name))}.")
            : new InvalidInputException(ModelName.Problem(model)));
    }

    private async Task<ModelView> ViewAsync(ModelDescriptor model)
    {
        var versions = await Task.WhenAll(model.Versions.Select(async version =>
        {
            var (ready, reason) = model.StateOf(version);
            return new VersionView
            {
                Version = version.Version,
                Ready = ready,
                Reason = reason,
                SplitPercent = model.TrafficSplit.Length == 0 ? null : Array.Find(model.TrafficSplit, w => w.Version == version.Version)?.Percent ?? 0,
                Replicas = ready ? await Task.WhenAll(ReplicaKeys(model.Name, version.Version).Select(ReplicaAsync)) : [],
            };
        }));
        return new ModelView { Model = model, Versions = versions };
    }

    /// <summary>The version's replicas on the load board; replica 0 when the board lists none.</summary>
    private string[] ReplicaKeys(string model, long version)
    {
        var keys = board.Current.Silos.SelectMany(s => s.Replicas).Where(r => r.Model == model && r.Version == version).Select(r => r.Key)
            .Order(StringComparer.Ordinal).ToArray();
        return keys.Length > 0 ? keys : [FirstReplica(model, version)];
    }

    private async Task<ReplicaView> ReplicaAsync(string key)
    {
        var replica = GrainFactory.GetGrain<IModelBatcherGrain>(key);
        try
        {
            var status = await replica.GetStatusAsync();
            var view = new ReplicaView { Key = key, Silo = status.Silo, Device = status.Device, Variant = status.Variant, Ready = status.Ready,
                Queued = status.Queued };
            if (!status.Ready)
            {
                return view;
            }

            var statistics = await replica.GetStatisticsAsync();
            var requests = statistics.Success.Count + statistics.Fail.Count;
            var generation = await replica.GetGenerationStatisticsAsync();
            return view with
            {
                Generation = generation,
                TokensPerSecond = generation is null ? 0 : PerSecond(key + "#tokens", generation.GeneratedTokens),
                Succeeded = statistics.Success.Count,
                Failed = statistics.Fail.Count,
                RequestsPerSecond = PerSecond(key, requests),
                P50Ms = statistics.RecentP50Ms,
                P99Ms = statistics.RecentP99Ms,
                BatchSizes = [.. statistics.Batches.Select(b => new BatchCount { BatchSize = b.BatchSize, Batches = b.ComputeInfer.Count })],
                Tokens = statistics.Tokens,
            };
        }
        catch (Exception e) when (e is InferenceException or TimeoutException)
        {
            return new ReplicaView { Key = key, Error = e.Message };
        }
    }

    /// <summary>How fast a counter rose since this grain last read it under <paramref name="key"/>.</summary>
    private double PerSecond(string key, long requests)
    {
        var now = Stopwatch.GetTimestamp();
        var rate = _previousCounts.TryGetValue(key, out var previous) && Stopwatch.GetElapsedTime(previous.Timestamp, now) is { TotalSeconds: > 0 } elapsed
            ? Math.Max(0, requests - previous.Requests) / elapsed.TotalSeconds
            : 0;
        _previousCounts[key] = (requests, now);
        return rate;
    }

    private static string FirstReplica(string model, long version) => new ReplicaKey(model, version, 0).ToString();

    private IModelBatcherGrain Replica(string model, long version) => GrainFactory.GetGrain<IModelBatcherGrain>(FirstReplica(model, version));
}
