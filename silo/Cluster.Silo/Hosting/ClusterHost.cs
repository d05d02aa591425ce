using System.Globalization;
using System.Net;
using Cluster.Grains.State;
using Cluster.Inference.Generation;
using Cluster.Inference.Telemetry;
using Cluster.Silo.Configuration;
using Cluster.Silo.Edge;
using Cluster.Silo.Telemetry;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cluster.Silo.Hosting;

/// <summary>Builds the silo host from configuration (appsettings.json, <c>Cluster__*</c> environment variables, command line).</summary>
public static class ClusterHost
{
    /// <summary>How long a stopping silo may take to leave the cluster before the process ends.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(8);

    /// <summary>
    /// Builds the host; <paramref name="overrides"/> (e.g. from tests) win over every other source.
    /// Throws <see cref="SiloConfigurationException"/> listing every invalid setting.
    /// </summary>
    public static IHost Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var settings = builder.Configuration.GetSection(SiloSettings.Section).Get<SiloSettings>() ?? new SiloSettings();
        var metadata = builder.Configuration.GetSection(SiloMetadataKeys.Section);
        var errors = settings.Validate().Concat(SiloMetadataKeys.Validate(metadata)).ToList();
        if (errors.Count > 0)
        {
            throw new SiloConfigurationException(errors);
        }

        if (metadata[SiloMetadataKeys.Speed] is { } speed)
        {
            settings.Devices.Speed = double.Parse(speed, CultureInfo.InvariantCulture);
        }

        builder.Services.AddSingleton(settings);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddHostedService<SecurityReport>();
        builder.UseOrleans(silo =>
        {
            silo.Configure<SiloOptions>(o => o.SiloName = settings.SiloName);
            silo.AddActivityPropagation();
            silo.Configure<ClusterMembershipOptions>(settings.Membership.Apply);
            silo.UseSiloMetadata(metadata);
            if (settings.UsesRedis)
            {
                silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (settings.ClusterId, settings.ServiceId));
                silo.UseRedisClustering(o => o.ConfigurationOptions = settings.RedisOptions());
                silo.AddRedisGrainStorage(ClusterState.StorageName, o => o.ConfigurationOptions = settings.RedisOptions());

                // The ports listen on the advertised address only, not on every address of the machine.
                silo.ConfigureEndpoints(settings.ResolveAdvertisedAddress(), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
            }
            else
            {
                var primary = new IPEndPoint(IPAddress.Loopback, settings.PrimarySiloPort ?? settings.SiloPort);
                silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, primary, settings.ServiceId, settings.ClusterId);
                silo.AddClusterStateFiles(settings.StateDirectory);
            }

            var labels = new SiloLabels(metadata[SiloMetadataKeys.Cloud] ?? "local", metadata[SiloMetadataKeys.Region] ?? "local");
            if (!string.IsNullOrWhiteSpace(settings.BundledModels))
            {
                // The demo decoder is too big to commit (6.7 MB); it is written, byte for byte the same, on first start.
                DemoDecoder.EnsureWritten(settings.BundledModels);
            }

            silo.AddInferenceServing(settings.ModelRepositories, settings.Devices, labels);
            silo.AddDashboard();
            silo.UseSiloTls(settings.Tls);
        });
        builder.AddEdge(settings.Edge);
        builder.AddTelemetry(settings.MetricsAddress, settings.OtlpEndpoint);
        builder.Services.AddHostedService<StartupReport>();
        var app = builder.Build();
        app.MapEdge(settings.Edge);
        app.MapAdminDashboard(settings.Edge.HttpAddress);
        app.MapMetricsEndpoint(settings.MetricsAddress);
        return app;
    }
}
