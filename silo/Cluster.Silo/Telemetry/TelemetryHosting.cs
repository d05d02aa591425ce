using System.Net;
using Cluster.Inference.Telemetry;
using Cluster.Silo.Edge;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Cluster.Silo.Telemetry;

/// <summary>
/// Metrics in Prometheus' text format on their own port under Triton's names (generation under vLLM's), and, when an OTLP
/// endpoint is configured, traces and metrics exported there.
/// </summary>
public static class TelemetryHosting
{
    /// <summary>The Orleans activity sources that carry a trace across grain calls.</summary>
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>ASP.NET Core's request activities: an edge request joins the trace its caller's <c>traceparent</c> header names.</summary>
    public const string AspNetCoreSource = "Microsoft.AspNetCore";

    /// <summary>The .NET runtime's own meter: collections, heap sizes and bytes allocated (<c>dotnet_gc_heap_total_allocated_bytes</c>), thread pool,
    /// exceptions.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>Registers the OpenTelemetry pipelines and the metrics listener.</summary>
    public static void AddTelemetry(this WebApplicationBuilder builder, string metricsAddress, string? otlpEndpoint)
    {
        var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics
                .AddMeter(InferenceMetrics.MeterName, RuntimeMeterName)
                .AddView("inference_batch_size", new ExplicitBucketHistogramConfiguration { Boundaries = InferenceMetrics.BatchSizeBuckets })
                .AddPrometheusExporter(o =>
                {
                    o.DisableTotalNameSuffixForCounters = true;
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                });
            if (otlpEndpoint is not null)
            {
                metrics.AddOtlpExporter(o => o.Endpoint = new Uri(otlpEndpoint));
            }
        });
        if (otlpEndpoint is not null)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(InferenceTracing.SourceName)
                .AddSource(OrleansSources)
                .AddSource(AspNetCoreSource)
                .AddOtlpExporter(o => o.Endpoint = new Uri(otlpEndpoint)));
        }

        builder.Services.AddSingleton<ClusterGauges>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPEndPoint.Parse(metricsAddress)));
    }

    /// <summary>Maps <c>/metrics</c> on the metrics port only: the exporter's metrics, then the generation engines' under vLLM's names.</summary>
    public static void MapMetricsEndpoint(this WebApplication app, string address)
    {
        app.Services.GetRequiredService<ClusterGauges>();
        app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.UseMiddleware<VllmMetricsAppender>(),
            optionsName: null)
            .RequireLocalPort(address);
    }
}
