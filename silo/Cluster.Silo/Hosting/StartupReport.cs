using Cluster.Contracts.Grains;
using Cluster.Grains.Devices;
using Cluster.Silo.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Silo.Hosting;

/// <summary>Once the silo has joined the cluster, logs the devices and models it found, then a ready line.</summary>
internal sealed partial class StartupReport(
    SiloSettings settings,
    LocalDevices devices,
    IGrainFactory grains,
    ILogger<StartupReport> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var device in devices.All)
        {
            LogDevice(device.Name, device.Kind, device.Health.ToString(), device.HealthReason ?? "");
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

        LogReady(settings.SiloName, settings.Clustering, settings.GatewayPort, models.Length);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device} ({Kind}): {Health} {Reason}")]
    private partial void LogDevice(string device, string kind, string health, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} (max_batch_size {MaxBatchSize}): {Versions}")]
    private partial void LogModel(string model, int maxBatchSize, string versions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} cannot be served: {Error}")]
    private partial void LogModelFailed(string model, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} ready: {Clustering} clustering, gateway port {GatewayPort}, {ModelCount} models")]
    private partial void LogReady(string silo, string clustering, int gatewayPort, int modelCount);
}
