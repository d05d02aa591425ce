using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Cluster.Silo.Edge;

/// <summary>
/// gRPC health's one check, <c>ready</c>: healthy once the silo has joined and warmed its models, so gRPC health agrees with
/// <c>/v2/health/ready</c>. Until then it reports Unhealthy (NOT_SERVING) without an error line: ASP.NET Core's health check
/// service logs every Unhealthy result at Error, which reads as a failure in a silo that is only starting, so its Error lines
/// are kept only while the silo is ready. Its warnings always pass, and naming the category under <c>Logging:LogLevel</c> replaces
/// this filter.
/// </summary>
public static class ReadinessHealth
{
    /// <summary>The category the health check service logs each check's result under.</summary>
    public const string LogCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>The check's description while the silo is not ready.</summary>
    public const string NotReady = "The silo is starting or warming a model.";

    /// <summary>Adds the check and the log filter for its not-ready results.</summary>
    public static IHealthChecksBuilder AddReadiness(this IHealthChecksBuilder checks, ILoggingBuilder logging, IConfiguration configuration,
        ClusterReadiness readiness)
    {
        if (configuration[$"Logging:LogLevel:{LogCategory}"] is null)
        {
            logging.AddFilter(LogCategory, level => level >= LogLevel.Warning && (level < LogLevel.Error || readiness.IsReady));
        }

        return checks.AddCheck("ready", new ReadinessHealthCheck(readiness));
    }

    private sealed class ReadinessHealthCheck(ClusterReadiness readiness) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(readiness.IsReady ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(NotReady));
    }
}
