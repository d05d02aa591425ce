using System.Collections;
using System.Net;
using System.Reflection;
using Cluster.Silo.Configuration;
using Cluster.Silo.Edge;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;

namespace Cluster.Deploy.Tests;

/// <summary>The silo's real configuration schema and routes, as the deployment files must use them.</summary>
public static class SiloSchema
{
    /// <summary>GET routes of the REST edge without parameters (e.g. <c>/v2/health/ready</c>), read from the silo's own endpoint table.</summary>
    public static IReadOnlySet<string> RestRoutes { get; } = Routes(metrics: false);

    /// <summary>The path Prometheus scrapes on the metrics port.</summary>
    public static string MetricsPath { get; } = Routes(metrics: true).Single();

    /// <summary>
    /// Null when <paramref name="name"/> (an environment variable, <c>__</c> between sections) is a
    /// setting of <see cref="SiloSettings"/> or a silo metadata key; else why not.
    /// </summary>
    public static string? CheckSettingName(string name)
    {
        var parts = name.Split("__");
        if (parts is ["Orleans", "Metadata", var key])
        {
            return SiloMetadataKeys.Known.Contains(key) ? null : $"'{key}' is not a silo metadata key ({string.Join(", ", SiloMetadataKeys.Known)})";
        }

        if (parts[0] != SiloSettings.Section)
        {
            return $"'{name}' is not a Cluster__ or Orleans__Metadata__ setting";
        }

        var type = typeof(SiloSettings);
        for (var i = 1; i < parts.Length; i++)
        {
            if (ElementType(type) is { } element)
            {
                if (!int.TryParse(parts[i], out _))
                {
                    return $"'{parts[i]}' in '{name}' should be a list index";
                }

                type = element;
                continue;
            }

            var property = IsLeaf(type) ? null : type.GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                return $"'{name}' names no setting: {type.Name} has no property '{parts[i]}'";
            }

            type = property.PropertyType;
        }

        return IsLeaf(type) ? null : $"'{name}' names a section ({type.Name}), not a value";
    }

    /// <summary>The settings a silo runs with given these environment variables (the real defaults and binder).</summary>
    public static SiloSettings Bind(IEnumerable<KeyValuePair<string, string?>> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)))
            .Build()
            .GetSection(SiloSettings.Section)
            .Get<SiloSettings>() ?? new SiloSettings();

    /// <summary>The ports a silo with these settings listens on, by role.</summary>
    public static IReadOnlyDictionary<string, int> Ports(SiloSettings settings) => new Dictionary<string, int>
    {
        ["http"] = IPEndPoint.Parse(settings.Edge.HttpAddress).Port,
        ["grpc"] = IPEndPoint.Parse(settings.Edge.GrpcAddress).Port,
        ["metrics"] = IPEndPoint.Parse(settings.MetricsAddress).Port,
        ["silo"] = settings.SiloPort,
        ["gateway"] = settings.GatewayPort,
    };

    /// <summary>The addresses a silo with these settings binds its HTTP listeners to, by setting key.</summary>
    public static IEnumerable<(string Key, IPAddress Address)> ListenAddresses(SiloSettings settings) =>
    [
        ("Cluster__Edge__HttpAddress", IPEndPoint.Parse(settings.Edge.HttpAddress).Address),
        ("Cluster__Edge__GrpcAddress", IPEndPoint.Parse(settings.Edge.GrpcAddress).Address),
        ("Cluster__MetricsAddress", IPEndPoint.Parse(settings.MetricsAddress).Address),
    ];

    private static bool IsLeaf(Type type) => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal)
        || Nullable.GetUnderlyingType(type) is not null;

    private static Type? ElementType(Type type) =>
        type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType ? type.GetGenericArguments()[0] : null;

    private static bool OnPort(RouteEndpoint endpoint, string address) =>
        endpoint.Metadata.GetMetadata<LocalPortMetadata>()?.Port == IPEndPoint.Parse(address).Port;

    private static HashSet<string> Routes(bool metrics)
    {
        using var host = ClusterHost.Build([], new Dictionary<string, string?>
        {
            ["Cluster:ModelRepository"] = RepositoryPaths.Models,
            ["Cluster:BundledModels"] = "",
            ["Cluster:Devices:Cuda"] = "none",
        });
        return ((IEndpointRouteBuilder)host).DataSources
            .SelectMany(d => d.Endpoints)
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Count == 0)
            .Where(e => metrics
                ? OnPort(e, new SiloSettings().MetricsAddress)
                : e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains("GET") == true && OnPort(e, new EdgeSettings().HttpAddress))
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/'))
            .ToHashSet();
    }
}
