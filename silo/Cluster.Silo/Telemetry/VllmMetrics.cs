using System.Globalization;
using System.Text;
using Cluster.Inference.Generation;

namespace Cluster.Silo.Telemetry;

/// <summary>
/// The generation engines' figures under vLLM's Prometheus names and help texts (<c>vllm:*</c>, label
/// <c>model_name</c>), so dashboards built for vLLM read this cluster. One series per model, summed over the
/// silo's engines of it (every version, every device). OpenTelemetry instrument names cannot hold the ':'
/// these names need, so they are written as Prometheus text here and appended to the exporter's.
/// </summary>
public static class VllmMetrics
{
    /// <summary>Finish reasons written even before any request ended with them, so their series exist from the start.</summary>
    private static readonly string[] KnownReasons = [FinishReasons.Stop, FinishReasons.Length, FinishReasons.Cancelled];

    /// <summary>
    /// Writes every family for <paramref name="engines"/>' statistics; <paramref name="openMetrics"/> names
    /// counter families without their <c>_total</c> suffix in the metadata lines, as OpenMetrics wants.
    /// </summary>
    public static void Write(StringBuilder text, IEnumerable<(string Model, GenerationStatistics Statistics)> engines, bool openMetrics)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(engines);
        var models = engines.GroupBy(e => e.Model, e => e.Statistics, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Model: g.Key, Totals: Sum([.. g])))
            .ToList();
        if (models.Count == 0)
        {
            return;
        }

        var writer = new FamilyWriter(text, openMetrics);
        writer.Gauge("vllm:num_requests_running", "Number of requests in model execution batches.", models, t => t.Running);
        writer.Gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", models, t => t.Waiting);
        writer.Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", models, t => t.KvCacheUsage);
        writer.Counter("vllm:prompt_tokens", "Number of prefill tokens processed.", models, t => t.PromptTokens);
        writer.Counter("vllm:generation_tokens", "Number of generation tokens processed.", models, t => t.GeneratedTokens);
        writer.Counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", models, t => t.PrefixCacheQueries);
        writer.Counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", models, t => t.PrefixCacheHits);
        writer.ReasonCounter("vllm:request_success", "Count of successfully processed requests.", models, t => t.Finished);
        writer.Histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", models, t => t.TimeToFirstToken);
        writer.Histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", models, t => t.InterTokenLatency);
        writer.Histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", models, t => t.EndToEndLatency);
    }

    /// <summary>One model's engines as one: counts and histograms added, KV cache use weighted by each engine's cache size.</summary>
    private static GenerationStatistics Sum(IReadOnlyList<GenerationStatistics> engines)
    {
        var cacheBytes = engines.Sum(e => e.KvCacheBytes);
        var finished = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (reason, count) in engines.SelectMany(e => e.Finished))
        {
            finished[reason] = finished.GetValueOrDefault(reason) + count;
        }

        return new GenerationStatistics
        {
            Running = engines.Sum(e => e.Running),
            Waiting = engines.Sum(e => e.Waiting),
            KvCacheBytes = cacheBytes,
            KvCacheUsage = cacheBytes > 0 ? engines.Sum(e => e.KvCacheUsage * e.KvCacheBytes) / cacheBytes : 0,
            PromptTokens = engines.Sum(e => e.PromptTokens),
            GeneratedTokens = engines.Sum(e => e.GeneratedTokens),
            PrefixCacheQueries = engines.Sum(e => e.PrefixCacheQueries),
            PrefixCacheHits = engines.Sum(e => e.PrefixCacheHits),
            Finished = finished,
            TimeToFirstToken = engines.Skip(1).Aggregate(engines[0].TimeToFirstToken, (sum, e) => sum.Plus(e.TimeToFirstToken)),
            InterTokenLatency = engines.Skip(1).Aggregate(engines[0].InterTokenLatency, (sum, e) => sum.Plus(e.InterTokenLatency)),
            EndToEndLatency = engines.Skip(1).Aggregate(engines[0].EndToEndLatency, (sum, e) => sum.Plus(e.EndToEndLatency)),
        };
    }

    /// <summary>Writes families in Prometheus' text format (0.0.4) or OpenMetrics.</summary>
    private sealed class FamilyWriter(StringBuilder text, bool openMetrics)
    {
        public void Gauge(string name, string help, List<(string Model, GenerationStatistics Totals)> models, Func<GenerationStatistics, double> value)
        {
            Metadata(name, "gauge", help);
            foreach (var (model, totals) in models)
            {
                Sample(name, model, null, value(totals));
            }
        }

        public void Counter(string name, string help, List<(string Model, GenerationStatistics Totals)> models, Func<GenerationStatistics, long> value)
        {
            Metadata(openMetrics ? name : name + "_total", "counter", help);
            foreach (var (model, totals) in models)
            {
                Sample(name + "_total", model, null, value(totals));
            }
        }

        public void ReasonCounter(string name, string help, List<(string Model, GenerationStatistics Totals)> models, Func<GenerationStatistics,
            IReadOnlyDictionary<string, long>> value)
        {
            Metadata(openMetrics ? name : name + "_total", "counter", help);
            foreach (var (model, totals) in models)
            {
                var counts = value(totals);
                foreach (var reason in KnownReasons.Union(counts.Keys.Order(StringComparer.Ordinal)))
                {
                    Sample(name + "_total", model, ("finished_reason", reason), counts.GetValueOrDefault(reason));
                }
            }
        }

        public void Histogram(string name, string help, List<(string Model, GenerationStatistics Totals)> models, Func<GenerationStatistics,
            HistogramSnapshot> value)
        {
            Metadata(name, "histogram", help);
            foreach (var (model, totals) in models)
            {
                var histogram = value(totals);
                long cumulative = 0;
                for (var i = 0; i < histogram.Bounds.Count; i++)
                {
                    cumulative += histogram.Counts[i];
                    Sample(name + "_bucket", model, ("le", Bound(histogram.Bounds[i])), cumulative);
                }

                Sample(name + "_bucket", model, ("le", "+Inf"), histogram.Count);
                Sample(name + "_sum", model, null, histogram.Sum);
                Sample(name + "_count", model, null, histogram.Count);
            }
        }

        private void Metadata(string family, string type, string help) =>
            text.Append("# HELP ").Append(family).Append(' ').Append(help).Append('\n')
                .Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');

        private void Sample(string name, string model, (string Name, string Value)? label, double value)
        {
            text.Append(name).Append("{model_name=\"").Append(Escape(model)).Append('"');
            if (label is var (labelName, labelValue))
            {
                text.Append(',').Append(labelName).Append("=\"").Append(Escape(labelValue)).Append('"');
            }

            text.Append("} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        /// <summary>A bucket bound as Python's Prometheus client writes it (<c>1.0</c>, <c>0.25</c>), so vLLM dashboards' <c>le</c> filters match.</summary>
        private static string Bound(double bound) =>
            bound == Math.Floor(bound) ? bound.ToString("0.0", CultureInfo.InvariantCulture) : bound.ToString("R", CultureInfo.InvariantCulture);

        private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
    }
}
