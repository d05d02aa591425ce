using System.Net;
using Cluster.Client.Security;
using Cluster.Contracts.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Cluster.Client;

/// <summary>A connected Orleans client with its <see cref="InferenceClient"/>. Dispose to disconnect.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private readonly ClusterCredentials? _credentials;

    private ClusterConnection(IHost host, ClusterCredentials? credentials)
    {
        _host = host;
        _credentials = credentials;
        Grains = host.Services.GetRequiredService<IClusterClient>();
        Inference = new InferenceClient(Grains);
    }

    /// <summary>Direct access to the cluster's grains (devices, registry), for tools and tests.</summary>
    public IGrainFactory Grains { get; }

    /// <summary>The admin API: cluster status, devices, models and the operator's decisions.</summary>
    public IClusterAdminGrain Admin => Grains.GetGrain<IClusterAdminGrain>(0);

    /// <summary>The inference API.</summary>
    public InferenceClient Inference { get; }

    /// <summary>Connects; throws when no gateway answers, <see cref="ClusterTlsException"/> when the TLS settings are wrong.</summary>
    public static async Task<ClusterConnection> ConnectAsync(ClusterConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var credentials = options.Tls.IsEnabled ? options.Tls.Load("Tls") : null;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (options.ClusterId, options.ServiceId));
            client.AddActivityPropagation();
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = options.GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.ResponseTimeout);
            if (options.RedisConnectionString is { } redis)
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = RedisConnection.Options(redis, caCertificatePath: options.Tls.CaCertificatePath));
            }
            else
            {
                client.UseStaticClustering([.. options.Gateways.Select(ParseEndpoint)]);
            }

            if (credentials is not null)
            {
                client.UseTls(credentials.Certificate, tls => ClusterTls.Apply(credentials, tls));
            }
        });
        GatewayListHold.Wrap(builder.Services);
        var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await host.StartAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            host.Dispose();
            credentials?.Dispose();
            throw new TimeoutException($"No gateway answered within {options.ConnectTimeout.TotalSeconds:0} s.");
        }
        catch
        {
            host.Dispose();
            credentials?.Dispose();
            throw;
        }

        return new ClusterConnection(host, credentials);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Inference.Dispose();
        await _host.StopAsync();
        _host.Dispose();
        _credentials?.Dispose();
    }

    private static IPEndPoint ParseEndpoint(string value)
    {
        if (IPEndPoint.TryParse(value, out var endpoint) && endpoint.Port != 0)
        {
            return endpoint;
        }

        var colon = value.LastIndexOf(':');
        if (colon > 0 && int.TryParse(value.AsSpan(colon + 1), out var port))
        {
            var address = Dns.GetHostAddresses(value[..colon]).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
            return new IPEndPoint(address, port);
        }

        throw new ArgumentException($"Gateway '{value}' is not of the form host:port.", nameof(value));
    }
}
