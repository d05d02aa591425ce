using System.Net;
using Cluster.Inference.Telemetry;
using OpenTelemetry.Metrics;

namespace Cluster.Silo.Telemetry;

/// <summary>Serves the inference metrics in Prometheus' text format on their own port, under Triton's names.</summary>
public static class MetricsHosting
{
    /// <summary>Registers the OpenTelemetry meter pipeline and the metrics listener.</summary>
    public static void AddMetricsEndpoint(this WebApplicationBuilder builder, string address)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(InferenceMetrics.MeterName)
            .AddView("inference_batch_size", new ExplicitBucketHistogramConfiguration { Boundaries = InferenceMetrics.BatchSizeBuckets })
            .AddPrometheusExporter(o =>
            {
                o.DisableTotalNameSuffixForCounters = true;
                o.ScrapeResponseCacheDurationMilliseconds = 0;
            }));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPEndPoint.Parse(address)));
    }

    /// <summary>Maps <c>/metrics</c> on the metrics port only.</summary>
    public static void MapMetricsEndpoint(this WebApplication app, string address) =>
        app.MapPrometheusScrapingEndpoint("/metrics").RequireHost($"*:{IPEndPoint.Parse(address).Port}");
}
