using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Cluster.Contracts.Generation;
using Cluster.Inference.Telemetry;
using static Cluster.Edge.Tests.GenerationStreamTests;

namespace Cluster.Edge.Tests;

/// <summary>tiny_gpt's generations on a real silo move the vLLM-named series of its /metrics by exactly what they streamed, and each leaves a span.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GenerationMetricsTests(EdgeFixture fixture) : IDisposable
{
    private const string Series = "{model_name=\"" + Model + "\"}";

    private static readonly GenerationRequest Greedy = new() { Prompt = Prompt, MaxTokens = 6, Temperature = 0, IgnoreEos = true };

    private readonly ConcurrentBag<Activity> _spans = [];
    private readonly ActivityListener _listener = new();

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Scrape_AfterThreeGenerations_MovedByExactlyWhatTheyStreamed()
    {
        var before = await ScrapeWhenIdleAsync();
        var first = await GenerateAsync(Greedy with { Id = "metrics-length-1" });
        var second = await GenerateAsync(Greedy with { Id = "metrics-length-2", MaxTokens = 9, Prompt = "Hello world, again" });

        // A stop string taken from the first generation's own text, so the same greedy run stops on it.
        var stopAt = first.First(t => t.TokenId >= 0 && t.GeneratedTokens >= 3 && t.Text.Trim().Length > 0).Text.Trim();
        var stopped = await GenerateAsync(Greedy with { Id = "metrics-stop", Stop = [stopAt] });
        var after = await ScrapeAsync();

        List<GeneratedToken>[] all = [first, second, stopped];
        Assert.Equal(["length", "length", "stop"], all.Select(g => g[^1].FinishReason));
        var streamed = all.Sum(g => g.Count(t => t.TokenId >= 0));
        Assert.Equal(all.Sum(g => g[^1].GeneratedTokens), streamed);
        Assert.Equal(streamed, Moved("vllm:generation_tokens_total" + Series));
        Assert.Equal(all.Sum(g => g[^1].PromptTokens), Moved("vllm:prompt_tokens_total" + Series));
        Assert.Equal(2, Moved(Reason("length")));
        Assert.Equal(1, Moved(Reason("stop")));
        Assert.Equal(0, Moved(Reason("cancelled")));
        Assert.Equal(3, Moved("vllm:time_to_first_token_seconds_count" + Series));
        Assert.Equal(3, Moved("vllm:e2e_request_latency_seconds_count" + Series));
        Assert.Equal(streamed - 3, Moved("vllm:inter_token_latency_seconds_count" + Series));
        Assert.True(Moved("vllm:e2e_request_latency_seconds_sum" + Series) >= Moved("vllm:time_to_first_token_seconds_sum" + Series));
        foreach (var histogram in new[] { "vllm:time_to_first_token_seconds", "vllm:inter_token_latency_seconds", "vllm:e2e_request_latency_seconds" })
        {
            AssertCumulative(after, histogram);
        }

        Assert.Equal((0, 0, 0),
            (after["vllm:num_requests_running" + Series], after["vllm:num_requests_waiting" + Series], after["vllm:kv_cache_usage_perc" + Series]));
        Assert.InRange(after["vllm:prefix_cache_hits_total" + Series], 0, after["vllm:prefix_cache_queries_total" + Series]);
        Assert.Contains(after.Keys, k => k.StartsWith("cluster_model_replicas{", StringComparison.Ordinal));

        double Moved(string key) => after.GetValueOrDefault(key) - before.GetValueOrDefault(key);
    }

    [Fact]
    public async Task Generate_WithTracing_OneSpanWithTokensReasonAndFirstToken()
    {
        _listener.ShouldListenTo = source => source.Name == InferenceTracing.SourceName;
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = _spans.Add;
        ActivitySource.AddActivityListener(_listener);

        var tokens = await GenerateAsync(Greedy with { Id = "traced-generation" });

        var span = Assert.Single(_spans, s => s.OperationName == "generate" && Equals(s.GetTagItem("request.id"), "traced-generation"));
        Assert.Equal(Model, span.GetTagItem("model"));
        Assert.Equal(tokens[^1].PromptTokens, span.GetTagItem("prompt.tokens"));
        Assert.Equal(tokens.Count(t => t.TokenId >= 0), span.GetTagItem("generated.tokens"));
        Assert.Equal("length", span.GetTagItem("finish.reason"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        var firstToken = Assert.Single(span.Events, e => e.Name == "first_token");
        Assert.InRange(firstToken.Timestamp, span.StartTimeUtc, span.StartTimeUtc + span.Duration);
        Assert.InRange((double)span.GetTagItem("ttft.ms")!, 0, span.Duration.TotalMilliseconds);
    }

    [Fact]
    public async Task Scrape_AsOpenMetricsOrGzipAccepted_VllmFamiliesInPlainTextBeforeTheEnd()
    {
        await GenerateAsync(Greedy with { Id = "metrics-formats" });
        using var http = new HttpClient();

        using var openMetrics = new HttpRequestMessage(HttpMethod.Get, fixture.Cluster.MetricsAddresses[0] + "/metrics");
        openMetrics.Headers.Accept.ParseAdd("application/openmetrics-text;version=1.0.0");
        var openMetricsText = await (await http.SendAsync(openMetrics)).Content.ReadAsStringAsync();
        Assert.EndsWith("# EOF\n", openMetricsText, StringComparison.Ordinal);
        Assert.Contains("# TYPE vllm:generation_tokens counter\n", openMetricsText, StringComparison.Ordinal);
        Assert.Contains("\nvllm:generation_tokens_total" + Series + " ", openMetricsText, StringComparison.Ordinal);
        Assert.Contains("\ncluster_model_replicas{", openMetricsText, StringComparison.Ordinal);

        using var gzip = new HttpRequestMessage(HttpMethod.Get, fixture.Cluster.MetricsAddresses[0] + "/metrics");
        gzip.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await http.SendAsync(gzip);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("# TYPE vllm:generation_tokens_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("\ncluster_model_replicas{", text, StringComparison.Ordinal);
    }

    private static string Reason(string reason) => $"vllm:request_success_total{{model_name=\"{Model}\",finished_reason=\"{reason}\"}}";

    /// <summary>Buckets never decrease and the +Inf bucket equals the count.</summary>
    private static void AssertCumulative(Dictionary<string, double> scrape, string histogram)
    {
        var buckets = scrape.Where(p => p.Key.StartsWith(histogram + "_bucket{model_name=\"" + Model + "\",", StringComparison.Ordinal)).Select(p => p.Value)
            .ToList();
        Assert.True(buckets.Count > 10, $"{histogram} has {buckets.Count} buckets");
        Assert.Equal(buckets.Order(), buckets);
        Assert.Equal(scrape[histogram + "_count" + Series], buckets[^1]);
    }

    private async Task<List<GeneratedToken>> GenerateAsync(GenerationRequest request)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (var token in fixture.Cluster.Client.GenerateAsync(Model, request))
        {
            tokens.Add(token);
        }

        return tokens;
    }

    /// <summary>
    /// A scrape once tiny_gpt's engine has nothing running or waiting (a sequence another test cancelled leaves
    /// within a step or two), so the counters it reads move only by this test's requests.
    /// </summary>
    private async Task<Dictionary<string, double>> ScrapeWhenIdleAsync()
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(20))
        {
            var scrape = await ScrapeAsync();
            if (scrape.GetValueOrDefault("vllm:num_requests_running" + Series) == 0 && scrape.GetValueOrDefault("vllm:num_requests_waiting" + Series) == 0)
            {
                return scrape;
            }

            Assert.True(DateTime.UtcNow < deadline, "tiny_gpt's engine never became idle");
        }
    }

    /// <summary>Every series of the silo's /metrics (name and labels as written) with its value.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics");
        return text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(Sample).ToDictionary(s => s.Series, s => s.Value);
    }

    /// <summary>A sample line's series and value (a timestamp after the value is left out).</summary>
    private static (string Series, double Value) Sample(string line)
    {
        var end = line.Contains('}', StringComparison.Ordinal) ? line.LastIndexOf('}') + 1 : line.IndexOf(' ', StringComparison.Ordinal);
        return (line[..end], double.Parse(line[end..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
    }
}
