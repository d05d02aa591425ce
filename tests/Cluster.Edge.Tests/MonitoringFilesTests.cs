using System.Text.Json;
using Cluster.Contracts.Errors;
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
        // One success and one failure, so every series has appeared at least once.
        await fixture.Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)]);
        await Assert.ThrowsAsync<InvalidInputException>(() => fixture.Cluster.Client.InferAsync("tiny_classifier", [TensorData.FromFloat32("features", [1f], 1, 1)]));
        using var http = new HttpClient();
        var served = (await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics"))
            .Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])]).ToHashSet();

        using var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "monitoring", "grafana-dashboard.json")));
        var queried = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
            .ToHashSet();

        Assert.NotEmpty(queried);
        Assert.All(queried, name => Assert.Contains(name, served));
    }

    [Fact]
    public async Task PrometheusConfig_ScrapesTheDefaultMetricsPort()
    {
        var config = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "monitoring", "prometheus.yml"));
        Assert.Contains("metrics_path: /metrics", config, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8002", config, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8002", await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "silo", "Cluster.Silo", "Configuration", "SiloSettings.cs")), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b(?:nv|inference|cluster)_[a-z_]+\b")]
    private static partial Regex MetricName();
}
