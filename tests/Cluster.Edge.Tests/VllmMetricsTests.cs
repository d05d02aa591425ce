using System.Text;
using Cluster.Inference.Generation;
using Cluster.Silo.Telemetry;

namespace Cluster.Edge.Tests;

/// <summary>The vLLM-named text of a silo's engines: one series per model, its engines summed.</summary>
public sealed class VllmMetricsTests
{
    private static readonly GenerationStatistics Small = new()
    {
        Running = 1,
        Waiting = 2,
        KvCacheBytes = 100,
        KvCacheUsage = 1.0,
        GeneratedTokens = 10,
        Finished = new Dictionary<string, long> { ["stop"] = 1 },
        EndToEndLatency = new HistogramSnapshot(LatencyBuckets.EndToEnd, [1, .. new long[LatencyBuckets.EndToEnd.Count]], 0.25),
    };

    private static readonly GenerationStatistics Large = new()
    {
        Running = 3,
        KvCacheBytes = 300,
        KvCacheUsage = 0.2,
        GeneratedTokens = 5,
        Finished = new Dictionary<string, long> { ["stop"] = 2, ["length"] = 4 },
        EndToEndLatency = new HistogramSnapshot(LatencyBuckets.EndToEnd, [.. new long[LatencyBuckets.EndToEnd.Count], 3], 30000),
    };

    [Fact]
    public void Write_TwoEnginesOfOneModel_SummedWithCacheUseWeightedBySize()
    {
        var text = Write([("gpt", Small), ("gpt", Large), ("other", new GenerationStatistics())], openMetrics: false);

        Assert.Contains("vllm:num_requests_running{model_name=\"gpt\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:num_requests_waiting{model_name=\"gpt\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:kv_cache_usage_perc{model_name=\"gpt\"} 0.4\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:generation_tokens_total{model_name=\"gpt\"} 15\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:request_success_total{model_name=\"gpt\",finished_reason=\"stop\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:request_success_total{model_name=\"gpt\",finished_reason=\"length\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:request_success_total{model_name=\"other\",finished_reason=\"cancelled\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:e2e_request_latency_seconds_bucket{model_name=\"gpt\",le=\"0.3\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:e2e_request_latency_seconds_bucket{model_name=\"gpt\",le=\"7680.0\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:e2e_request_latency_seconds_bucket{model_name=\"gpt\",le=\"+Inf\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:e2e_request_latency_seconds_sum{model_name=\"gpt\"} 30000.25\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE vllm:generation_tokens_total counter\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), l => l.StartsWith("vllm:generation_tokens_total{", StringComparison.Ordinal)
            && l.Contains("\"gpt\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_OpenMetrics_CounterFamiliesNamedWithoutTotal()
    {
        var text = Write([("gpt", Small)], openMetrics: true);

        Assert.Contains("# TYPE vllm:generation_tokens counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# HELP vllm:request_success Count of successfully processed requests.\n", text, StringComparison.Ordinal);
        Assert.Contains("vllm:generation_tokens_total{model_name=\"gpt\"} 10\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_NoEngines_Nothing()
    {
        Assert.Equal("", Write([], openMetrics: false));
    }

    private static string Write(IEnumerable<(string Model, GenerationStatistics Statistics)> engines, bool openMetrics)
    {
        var text = new StringBuilder();
        VllmMetrics.Write(text, engines, openMetrics);
        return text.ToString();
    }
}
