using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Edge.Tests;

/// <summary>
/// ASP.NET Core starts an Activity and a log scope for every request whenever its request log category is enabled
/// at any level; the silo turns that category off unless it is configured.
/// </summary>
public sealed class RequestLogTests
{
    private const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    [Fact]
    public void RequestLog_NotConfigured_IsOffAtEveryLevel()
    {
        using var host = Build(level: null);
        Assert.False(RequestLogger(host).IsEnabled(LogLevel.Critical));
    }

    [Fact]
    public void RequestLog_Configured_KeepsTheConfiguredLevel()
    {
        using var host = Build(level: "Information");
        Assert.True(RequestLogger(host).IsEnabled(LogLevel.Information));
        Assert.False(RequestLogger(host).IsEnabled(LogLevel.Debug));
    }

    private static ILogger RequestLogger(IHost host) => host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);

    private static IHost Build(string? level)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Cluster:ModelRepository"] = RepositoryPaths.Models,
            ["Cluster:BundledModels"] = "",
            ["Cluster:Devices:Cuda"] = "none",
        };
        if (level is not null)
        {
            settings[$"Logging:LogLevel:{Category}"] = level;
        }

        return ClusterHost.Build([], settings);
    }
}
