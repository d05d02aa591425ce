using System.Globalization;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Telemetry;
using static Cluster.Edge.Tests.EdgeFixture;

namespace Cluster.Edge.Tests;

/// <summary>The Prometheus endpoint reports exactly the requests made, under Triton's metric names.</summary>
[Collection(EdgeCollection.Name)]
public sealed class MetricsTests(EdgeFixture fixture)
{
    [Fact]
    public async Task Scrape_AfterKnownRequests_ShowsExactlyThoseCounts()
    {
        for (var i = 0; i < 3; i++)
        {
            await fixture.Cluster.Client.InferAsync(MetricsModel, [TensorData.FromFloat32("features", [i, 1f, 2f, 3f], 1, 4)]);
        }

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InvalidInputException>(() =>
                fixture.Cluster.Client.InferAsync(MetricsModel, [TensorData.FromFloat32("features", [1f], 1, 1)]));
        }

        var backend =
            await Assert.ThrowsAsync<ModelExecutionException>(() =>
                fixture.Cluster.Client.InferAsync(FailingModel, [TensorData.FromFloat32("x", [1f, 2f, 3f, 4f], 1, 4)]));
        Assert.StartsWith($"Model '{FailingModel}' version 1 failed on device 'edge/cpu:0': ", backend.Message, StringComparison.Ordinal);

        TensorData[] twoRows = [TensorData.FromFloat32("features", new float[8], 2, 4)];
        await Assert.ThrowsAsync<InferenceTimeoutException>(() =>
            fixture.Cluster.Client.InferAsync(MetricsModel, twoRows, options: new() { Timeout = TimeSpan.FromMilliseconds(50) }));
        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                fixture.Cluster.Client.InferAsync(MetricsModel, twoRows, cancellationToken: cancel.Token));
        }

        // The caller's cancellation reaches the replica asynchronously: scrape until the replica has recorded it.
        using var http = new HttpClient();
        var text = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !text.Contains("reason=\"CANCELED\"", StringComparison.Ordinal);)
        {
            Assert.True(DateTime.UtcNow < deadline, "the cancelled request was never counted");
            text = await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics");
        }

        Assert.Equal(3, Value(text, "nv_inference_request_success"));
        Assert.Equal(2, Value(text, "nv_inference_request_failure", "reason=\"OTHER\""));
        Assert.Equal(1, Value(text, "nv_inference_request_failure", "reason=\"REJECTED\""));
        Assert.Equal(1, Value(text, "nv_inference_request_failure", "reason=\"CANCELED\""));
        Assert.Equal(1, Value(text, "nv_inference_request_failure", "reason=\"BACKEND\"", FailingModel));
        Assert.Equal(3, Value(text, "nv_inference_request_success", "cloud=\"aws\""));
        Assert.Equal(3, Value(text, "nv_inference_request_success", "region=\"eu-west-1\""));
        Assert.Equal(3, Value(text, "nv_inference_count"));
        Assert.Equal(3, Value(text, "nv_inference_exec_count"));
        Assert.Equal(0, Value(text, "nv_inference_pending_request_count"));
        Assert.True(Value(text, "nv_inference_request_duration_us") > 0);
        Assert.True(Value(text, "nv_inference_compute_infer_duration_us") > 0);
        Assert.Equal(3, Value(text, "inference_batch_size_bucket", "le=\"1\""));
        Assert.Equal(7, Value(text, "inference_request_latency_ms_count"));

        var memory = DeviceValue(text, "nv_gpu_memory_used_bytes");
        Assert.True(memory >= new FileInfo(Path.Combine(fixture.Cluster.ModelRepository, MetricsModel, "1", "model.onnx")).Length);
        Assert.True(DeviceValue(text, "nv_gpu_memory_total_bytes") > memory);
        Assert.InRange(DeviceValue(text, "nv_gpu_utilization"), 0, 1);

        Assert.Equal(1, Value(text, "cluster_model_replicas"));
        var silos = Assert.Single(text.Split('\n'), l => l.StartsWith("cluster_silos{", StringComparison.Ordinal)
            && l.Contains("state=\"Active\"", StringComparison.Ordinal) && l.Contains("silo=\"edge\"", StringComparison.Ordinal));
        Assert.Equal(1, double.Parse(silos[(silos.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Scrape_ShowsTheProcessAllocation_GrowingExactly_AndTheRuntimesCounter()
    {
        using var http = new HttpClient();
        var first = await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics");
        // The scrape itself allocates (the response text), so the second reading is larger; no request is made,
        // as the other test counts this fixture's requests exactly.
        var second = await http.GetStringAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics");
        var (before, after) = (Reading(first, ProcessGauges.AllocatedBytesName), Reading(second, ProcessGauges.AllocatedBytesName));

        Assert.True(before > 0, $"{ProcessGauges.AllocatedBytesName} was {before}");
        Assert.True(after > before, $"{ProcessGauges.AllocatedBytesName} went from {before} to {after} across a scrape");

        // The runtime's own figure is there too; approximate, it may stand still between two scrapes.
        Assert.True(Reading(second, "dotnet_gc_heap_total_allocated_bytes") > 0);
    }

    /// <summary>The one reading of an unlabelled metric (OpenTelemetry's scope label aside).</summary>
    private static double Reading(string text, string name)
    {
        var line = Assert.Single(text.Split('\n'),
            l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
        var value = line.Contains('}', StringComparison.Ordinal) ? line[(line.LastIndexOf('}') + 1)..] : line[line.IndexOf(' ', StringComparison.Ordinal)..];
        return double.Parse(value.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static double DeviceValue(string text, string name)
    {
        var line = Assert.Single(text.Split('\n'), l => l.StartsWith(name + "{", StringComparison.Ordinal)
            && l.Contains("device=\"cpu:0\"", StringComparison.Ordinal) && l.Contains("silo=\"edge\"", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>The value of the one series of <paramref name="name"/> for the metrics model (and <paramref name="label"/>).</summary>
    private static double Value(string text, string name, string label = "", string model = MetricsModel)
    {
        var lines = text.Split('\n').Where(l =>
            l.StartsWith(name + "{", StringComparison.Ordinal)
            && l.Contains($"model=\"{model}\"", StringComparison.Ordinal)
            && l.Contains(label, StringComparison.Ordinal)).ToArray();
        var line = Assert.Single(lines);
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
