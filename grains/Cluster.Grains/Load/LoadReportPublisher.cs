using Cluster.Contracts.Devices;
using Cluster.Contracts.Load;
using Cluster.Contracts.Scaling;
using Cluster.Grains.Devices;
using Cluster.Inference.Replicas;
using Cluster.Inference.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cluster.Grains.Load;

/// <summary>
/// Every <see cref="IClusterLoadGrain.ReportInterval"/>, publishes this silo's devices (busy fraction,
/// queued requests, running batches, free memory) and replicas to the cluster's load board, and keeps the
/// board it gets back in <see cref="ClusterLoadView"/>; it also keeps the autoscaler running. Runs beside
/// the silo, never on a request's path. It publishes from the moment the silo is active until it starts to
/// leave membership, so a stopping silo keeps reporting while it drains (<see cref="Drain.GracefulDrain"/>).
/// </summary>
internal sealed partial class LoadReportPublisher(
    LocalDevices devices,
    ReplicaBoard replicas,
    DeviceUsageBoard usage,
    ThroughputBoard throughputs,
    ILocalSiloDetails localSilo,
    ISiloMetadataCache metadata,
    IGrainFactory grains,
    ClusterLoadView view,
    TimeProvider time,
    ILogger<LoadReportPublisher> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly BusyFractionReadings _busy = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _publishing = Task.CompletedTask;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(LoadReportPublisher), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);
        lifecycle.Subscribe(nameof(LoadReportPublisher), ServiceLifecycleStage.BecomeActive, _ => Task.CompletedTask, StopAsync);
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _publishing = Task.Run(() => PublishAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _publishing.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task PublishAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(IClusterLoadGrain.ReportInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                view.Update(await grains.GetGrain<IClusterLoadGrain>(0).PublishAsync(Report()));
                await grains.GetGrain<IReplicaAutoscalerGrain>(0).KeepRunningAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // Before the silo joins, and while the board's grain moves, reports fail; the next one follows shortly.
                LogReportFailed(e.Message);
            }
        }
    }

    /// <summary>This silo's load now.</summary>
    public SiloLoad Report()
    {
        var entries = replicas.Entries.Select(r => (Entry: r, Load: r.Load)).ToList();
        var deviceLoads = new DeviceLoad[devices.All.Count];
        for (var i = 0; i < deviceLoads.Length; i++)
        {
            var device = devices.All[i];
            var record = usage.Find(localSilo.Name, device.Name);
            deviceLoads[i] = new DeviceLoad
            {
                Name = device.Name,
                Kind = device.Kind,
                Speed = device.Speed,
                Healthy = device.Health == DeviceHealth.Healthy,
                BusyFraction = _busy.Read(record),
                QueuedRequests = entries.Where(r => r.Entry.Device == device.Name).Sum(r => r.Load.Queued),
                RunningBatches = entries.Where(r => r.Entry.Device == device.Name).Sum(r => r.Load.Running),
                MemoryTotalBytes = device.MemoryTotalBytes,
                MemoryFreeBytes = device.MemoryFreeBytes((long)(record?.MemoryUsedBytes ?? 0)) ?? 0,
            };
        }

        return new SiloLoad
        {
            Silo = localSilo.Name,
            Metadata = metadata.GetSiloMetadata(localSilo.SiloAddress).Metadata.ToDictionary(StringComparer.Ordinal),
            Devices = deviceLoads,
            Replicas = [.. entries.Select(r =>
                (r.Entry, r.Load, Sharing: 1 +
                    entries.Count(e => !ReferenceEquals(e.Entry, r.Entry) && e.Entry.Device == r.Entry.Device && e.Load.Queued + e.Load.Running > 0)))
                        .Select(r => new ReplicaLoad
            {
                Key = r.Entry.Key,
                Model = r.Entry.Model,
                Version = r.Entry.Version,
                Device = r.Entry.Device,
                Capacity = (devices.Find(r.Entry.Device)?.Speed ?? 1) / r.Sharing,
                MeasuredCapacity = throughputs.ItemsPerSecond(r.Entry.Device, r.Entry.Model, r.Entry.Version) / r.Sharing,
                Accepting = r.Entry.Ready && !r.Entry.Retiring,
                Retiring = r.Entry.Retiring,
                Queued = r.Load.Queued,
                RunningBatches = r.Load.Running,
            })],
            ReportedAt = time.GetUtcNow(),
        };
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Load report not published: {Error}")]
    private partial void LogReportFailed(string error);
}
