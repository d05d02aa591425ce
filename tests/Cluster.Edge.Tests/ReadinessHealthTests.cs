using System.Collections.Concurrent;
using Cluster.Silo.Edge;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Cluster.Edge.Tests;

/// <summary>A starting silo is NOT_SERVING on gRPC health without the health check service's error line; a ready one is healthy.</summary>
public sealed class ReadinessHealthTests
{
    [Fact]
    public async Task NotReady_UnhealthyWithoutAnErrorLine_ThenHealthy()
    {
        var readiness = new ClusterReadiness();
        var (health, lines) = Build(readiness, new Dictionary<string, string?>());

        var starting = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, starting.Status);
        Assert.Equal(ReadinessHealth.NotReady, starting.Entries["ready"].Description);
        Assert.DoesNotContain(lines, l => l.Level >= LogLevel.Error);

        readiness.MarkReady();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task CategoryNamedInConfiguration_ItsRulesApplyInstead()
    {
        var (health, lines) = Build(new ClusterReadiness(), new Dictionary<string, string?> { [$"Logging:LogLevel:{ReadinessHealth.LogCategory}"] = "Error" });

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
        Assert.Contains(lines, l => l.Level == LogLevel.Error && l.Category == ReadinessHealth.LogCategory);
    }

    private static (HealthCheckService Health, ConcurrentQueue<(string Category, LogLevel Level)> Lines) Build(
        ClusterReadiness readiness, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var lines = new ConcurrentQueue<(string Category, LogLevel Level)>();
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            logging.AddProvider(new CapturingProvider(lines));
            services.AddHealthChecks().AddReadiness(logging, configuration, readiness);
        });
        return (services.BuildServiceProvider().GetRequiredService<HealthCheckService>(), lines);
    }

    private sealed class CapturingProvider(ConcurrentQueue<(string Category, LogLevel Level)> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<(string Category, LogLevel Level)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, logLevel));
    }
}
