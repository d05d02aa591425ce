using System.Text;
using Cluster.Grains.Devices;

namespace Cluster.Silo.Telemetry;

/// <summary>
/// Middleware in front of the Prometheus exporter on <c>/metrics</c>: lets the exporter write its metrics,
/// then appends <see cref="VllmMetrics"/> for this silo's generation engines, in the format the exporter chose.
/// </summary>
public sealed class VllmMetricsAppender(RequestDelegate next, LocalDecoders decoders)
{
    private const string OpenMetricsEnd = "# EOF";

    /// <summary>Serves one scrape.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // The exporter would compress its part when asked to; the appended part must land in the same plain text.
        context.Request.Headers.AcceptEncoding = default;
        var body = context.Response.Body;
        using var exported = new MemoryStream();
        context.Response.Body = exported;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }

        var text = Encoding.UTF8.GetString(exported.GetBuffer(), 0, (int)exported.Length);
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var openMetrics = context.Response.ContentType?.StartsWith("application/openmetrics-text", StringComparison.Ordinal) == true;
            var families = new StringBuilder();
            VllmMetrics.Write(families, decoders.Engines.Select(e => (e.Model, e.Engine.Statistics())), openMetrics);

            // OpenMetrics ends with "# EOF": the families go before it.
            var end = openMetrics ? text.LastIndexOf(OpenMetricsEnd, StringComparison.Ordinal) : -1;
            text = end >= 0 ? text.Insert(end, families.ToString()) : text + families;
        }

        await body.WriteAsync(Encoding.UTF8.GetBytes(text), context.RequestAborted);
    }
}
