using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Grains.Devices;
using Cluster.Silo.Configuration;
using Cluster.Silo.Edge;

namespace Cluster.Silo.Hosting;

/// <summary>Logs the edge's authentication mode; once the silo has joined the cluster, the devices and models it found, then a ready line.</summary>
internal sealed partial class StartupReport(
    SiloSettings settings,
    LocalDevices devices,
    IGrainFactory grains,
    ClusterReadiness readiness,
    ApiKeyAuthorizer keys,
    IHostApplicationLifetime lifetime,
    ILogger<StartupReport> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LogAuthentication();
        var gen0 = Environment.GetEnvironmentVariable(CollectorBudget.Variable);
        LogCollector(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation", gen0 is { Length: > 0 }
            ? $"{CollectorBudget.Variable}={gen0}"
            : $"the runtime's own (the launch settings and container images set {CollectorBudget.Variable}={CollectorBudget.Recommended}; see " +
                "docs/performance.md)");
        foreach (var device in devices.All)
        {
            LogDevice(device.Name, device.Kind, device.Health.ToString(), device.HealthReason is { } reason ? $": {reason}" : "");
        }

        var models = await grains.GetGrain<IModelRegistryGrain>(0).GetModelsAsync();
        foreach (var model in models)
        {
            var versions = string.Join(", ", model.Versions.Select(v => v.IsLoadable ? $"v{v.Version}" : $"v{v.Version} FAILED: {v.Error}"));
            if (model.Error is null)
            {
                LogModel(model.Name, model.Config.MaxBatchSize, versions);
            }
            else
            {
                LogModelFailed(model.Name, model.Error);
            }
        }

        await WarmAsync(models);

        // The web server starts after the hosted services, so ready waits until its endpoints listen.
        lifetime.ApplicationStarted.Register(() =>
        {
            readiness.MarkReady();
            LogReady(settings.SiloName, settings.Clustering, settings.GatewayPort, settings.Edge.GrpcAddress, settings.Edge.HttpAddress, models.Length);
        });
    }

    /// <summary>Loads and warms a replica of every servable model version, so no request pays a cold start.</summary>
    private async Task WarmAsync(ModelDescriptor[] models)
    {
        var warming = new List<(string Model, long Version, Task Task)>();
        foreach (var model in models)
        {
            if (model.Error is not null || model.Unloaded)
            {
                continue;
            }

            foreach (var version in model.ServedVersions)
            {
                if (version.IsLoadable)
                {
                    warming.Add((model.Name, version.Version, grains.GetGrain<IModelBatcherGrain>(new ReplicaKey(model.Name, version.Version, 0).ToString())
                        .WarmAsync()));
                }
            }
        }

        foreach (var (model, version, task) in warming)
        {
            try
            {
                await task;
            }
            catch (Exception e) when (e is InferenceException or TimeoutException)
            {
                LogWarmFailed(model, version, e.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void LogAuthentication()
    {
        var edge = settings.Edge;
        if (keys.Enabled)
        {
            LogKeysRequired(keys.Count);
        }
        else if (edge.IsLoopbackOnly)
        {
            LogOpenOnLoopback(edge.GrpcAddress, edge.HttpAddress);
        }
        else
        {
            LogOpenBeyondLoopback(edge.GrpcAddress, edge.HttpAddress);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Edge authentication: API keys required ({KeyCount} keys)")]
    private partial void LogKeysRequired(int keyCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Edge authentication: none (no API keys); gRPC {Grpc} and HTTP {Http} listen on loopback only")]
    private partial void LogOpenOnLoopback(string grpc, string http);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Edge authentication: none (no API keys) on gRPC {Grpc} and HTTP {Http} beyond loopback, allowed by " +
            "Cluster:Edge:AllowUnauthenticatedBeyondLoopback")]
    private partial void LogOpenBeyondLoopback(string grpc, string http);

    [LoggerMessage(Level = LogLevel.Information, Message = "Garbage collector: {Mode}, gen0 budget {Gen0Budget}")]
    private partial void LogCollector(string mode, string gen0Budget);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device} ({Kind}): {Health}{Reason}")]
    private partial void LogDevice(string device, string kind, string health, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} (max_batch_size {MaxBatchSize}): {Versions}")]
    private partial void LogModel(string model, int maxBatchSize, string versions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} cannot be served: {Error}")]
    private partial void LogModelFailed(string model, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}:{Version} could not be warmed up: {Error}")]
    private partial void LogWarmFailed(string model, long version, string error);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Silo {Silo} ready: {Clustering} clustering, gateway port {GatewayPort}, gRPC {Grpc}, HTTP {Http}, {ModelCount} models")]
    private partial void LogReady(string silo, string clustering, int gatewayPort, string grpc, string http, int modelCount);
}
