using Cluster.Grains.Devices;
using Cluster.Grains.Drain;
using Cluster.Grains.Load;
using Cluster.Grains.Placement;
using Cluster.Grains.State;
using Cluster.Inference.Devices;
using Cluster.Inference.Replicas;
using Cluster.Inference.Repository;
using Cluster.Inference.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;

namespace Microsoft.Extensions.Hosting;

/// <summary>Adds the inference grains and their services to a silo.</summary>
public static class InferenceSiloBuilderExtensions
{
    /// <summary>The grain locations a silo keeps in its directory cache (Orleans' default: a million).</summary>
    public const int DirectoryCacheSize = 50_000;

    /// <summary>
    /// Serves the models in <paramref name="modelRepositoryPath"/> on this silo's devices (discovered per
    /// <paramref name="devices"/>), with device grains pinned to their silos; a stopping silo drains first
    /// (<see cref="GracefulDrain"/>) and answers until the cluster has heard it left (<see cref="DeathNoticeHold"/>).
    /// </summary>
    public static ISiloBuilder AddInferenceServing(this ISiloBuilder builder, string modelRepositoryPath, DeviceOptions devices, SiloLabels? labels = null) =>
        builder.AddInferenceServing([modelRepositoryPath], devices, labels);

    /// <summary>Serves the models of several repository folders (a model name must be unique across them).</summary>
    public static ISiloBuilder AddInferenceServing(this ISiloBuilder builder, IReadOnlyList<string> modelRepositoryPaths, DeviceOptions devices,
        SiloLabels? labels = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(sp => new ModelRepository(modelRepositoryPaths, sp.GetRequiredService<ILogger<ModelRepository>>()));
        builder.Services.AddSingleton(sp => LocalDevices.Discover(devices, sp.GetRequiredService<ILogger<LocalDevices>>()));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(labels ?? SiloLabels.Local);
        builder.Services.TryAddSingleton<DeviceUsageBoard>();
        builder.Services.TryAddSingleton<ThroughputBoard>();
        builder.Services.TryAddSingleton<ReplicaBoard>();
        builder.Services.TryAddSingleton<LocalDecoders>();
        builder.Services.TryAddSingleton<LocalSessionPools>();
        builder.Services.TryAddSingleton<ILocalReplicas>(sp => sp.GetRequiredService<ReplicaBoard>());
        builder.Services.TryAddSingleton<SiloLeaving>();
        builder.Services.TryAddSingleton<InferenceMetrics>();
        builder.Services.AddPlacementDirector<SiloNamePlacement, SiloNamePlacementDirector>();
        builder.Services.AddPlacementDirector<CapacityPlacement, CapacityPlacementDirector>();
        builder.Services.AddSingleton<ClusterLoadView>();
        builder.Services.AddSingleton<LoadReportPublisher>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<LoadReportPublisher>());
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, GracefulDrain>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DeathNoticeHold>();
        builder.Configure<SiloMessagingOptions>(o => o.ClientGatewayShutdownNotificationTimeout = GracefulDrain.GatewayNotice);

        // Orleans sizes the directory cache's table for its capacity up front and walks all of it whenever its size is read (the admin
        // dashboard reads it every second): at the default million entries, 2-4 ms of CPU each time. A node's replicas, devices and
        // services are hundreds of grains.
        builder.Configure<GrainDirectoryOptions>(o => o.CacheSize = DirectoryCacheSize);
        return builder;
    }

    /// <summary>
    /// Keeps the operator's decisions (the registry's and the admin grain's state) as JSON files in
    /// <paramref name="directory"/>: the single-node default. Multi-host clusters register a shared
    /// storage under <see cref="ClusterState.StorageName"/> instead.
    /// </summary>
    public static ISiloBuilder AddClusterStateFiles(this ISiloBuilder builder, string directory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddGrainStorage(ClusterState.StorageName, (services, _) =>
            new JsonFileGrainStorage(directory, services.GetRequiredService<ILogger<JsonFileGrainStorage>>()));
        return builder;
    }
}
