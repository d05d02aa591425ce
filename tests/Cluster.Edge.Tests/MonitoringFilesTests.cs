using System.Text.Json;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Tensors;
using System.Text.RegularExpressions;
using Cluster.Tests.Shared;

namespace Cluster.Edge.Tests;

/// <summary>The shipped Prometheus and Grafana files refer only to what a silo really serves.</summary>
[Collection(EdgeCollection.Name)]
public sealed partial class MonitoringFilesTests(EdgeFixture fixture)
{
    [Fact]
    public async Task GrafanaDashboard_EveryMetricItQueries_IsServed()
    {
        // One success, one failure and one generation, so every series has appeared at least once.
        await fixture.Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)]);
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            fixture.Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f], 1, 1)]));
        await fixture.Cluster.Client.GenerateTextAsync(GenerationStreamTests.Model,
            new GenerationRequest { Prompt = GenerationStreamTests.Prompt, MaxTokens = 4 });
        using var http = new HttpClient();
        var served = (await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics"))
            .Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])]).ToHashSet();

        using var dashboard =
            JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "monitoring", "grafana-dashboard.json")));
        var queried = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet();

        Assert.NotEmpty(queried);
        HashSet<string> generation = ["vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket", "vllm:generation_tokens_total",
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:prefix_cache_hits_total",
                "vllm:prefix_cache_queries_total", "vllm:request_success_total"];
        Assert.Superset(generation, queried);

        // An experiment's series appear once an experiment runs (none does here): its panels must query the names the silo declares.
        var experimentMetrics = await File.ReadAllTextAsync(
            Path.Combine(RepositoryPaths.Root, "grains", "Cluster.Inference", "Experiments", "ExperimentMetrics.cs"));
        var experiment = queried.Where(name => name.StartsWith("cluster_experiment_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(experiment);
        Assert.All(experiment, name => Assert.Contains($"\"{(name.EndsWith("_bucket", StringComparison.Ordinal) ? name[..^7] : name)}\"", experimentMetrics,
            StringComparison.Ordinal));
        Assert.All(queried.Except(experiment), name => Assert.Contains(name, served));
    }

    [Fact]
    public async Task PrometheusConfig_ScrapesTheDefaultMetricsPort()
    {
        var config = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "monitoring", "prometheus.yml"));
        Assert.Contains("metrics_path: /metrics", config, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8002", config, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8002",
            await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "silo", "Cluster.Silo", "Configuration", "SiloSettings.cs")),
                StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(?:nv|inference|cluster)_[a-z_]+\b|\bvllm:[a-z_]+\b")]
    private static partial Regex MetricName();
}
