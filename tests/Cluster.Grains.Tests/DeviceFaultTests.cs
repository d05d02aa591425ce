using System.Diagnostics;
using System.Globalization;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests;

/// <summary>
/// One silo with three simulated devices: <c>flaky</c> fails its first two batches after warm-up,
/// <c>hung</c> blocks its first batch after warm-up for 5 s (past the 500 ms batch timeout), <c>steady</c>
/// never fails; quarantined devices are probed every second. Each faulty device is its model's first choice, with steady as the fallback.
/// The flaky model declares an INT8 file for the steady device, so a replica that moves there reports another variant.
/// </summary>
public sealed class DeviceFaultTests : IAsyncLifetime
{
    private const string Silo = "faults";
    private const string FlakyModel = "on_flaky";
    private const string HungModel = "on_hung";

    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync(
        [Silo],
        perSilo: _ => new()
        {
            ["Cluster:Devices:BatchTimeoutMilliseconds"] = "500",
            ["Cluster:Devices:ProbeIntervalMilliseconds"] = "1000",
            ["Cluster:Devices:Simulated:0:Profile"] = "flaky",
            ["Cluster:Devices:Simulated:0:Fault:Mode"] = "throw",
            ["Cluster:Devices:Simulated:0:Fault:AfterBatches"] = "1",
            ["Cluster:Devices:Simulated:0:Fault:ForBatches"] = "2",
            ["Cluster:Devices:Simulated:1:Profile"] = "hung",
            ["Cluster:Devices:Simulated:1:Fault:Mode"] = "hang",
            ["Cluster:Devices:Simulated:1:Fault:AfterBatches"] = "1",
            ["Cluster:Devices:Simulated:1:Fault:ForBatches"] = "1",
            ["Cluster:Devices:Simulated:1:Fault:HangMilliseconds"] = "5000",
            ["Cluster:Devices:Simulated:2:Profile"] = "steady",
        },
        prepareRepository: repository =>
        {
            var steadyVariant = """{"file": "model.int8.onnx", "precision": "int8", "device_kinds": ["sim:steady"]}""";
            ClassifierCopies.Add(
                repository, FlakyModel, $$"""{"max_batch_size": 8, "device_kinds": ["sim:flaky", "sim:steady"], "variants": [{{steadyVariant}}]}""");
            File.Copy(Path.Combine(repository, FlakyModel, "1", "model.onnx"), Path.Combine(repository, FlakyModel, "1", "model.int8.onnx"));
            ClassifierCopies.Add(repository, HungModel, """{"max_batch_size": 8, "device_kinds": ["sim:hung", "sim:steady"]}""");
        });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task DeviceThrows_BatchRetriedOnTheOtherDevice_DeviceQuarantinedThenProbedBackIntoService()
    {
        var response = await _cluster.Client.InferAsync(FlakyModel, [Row()]);

        Assert.Single(response.Outputs);
        var flaky = await _cluster.Client.GetDeviceStatusAsync($"{Silo}/sim:flaky:0");
        Assert.Equal(DeviceHealth.Unhealthy, flaky.Health);
        Assert.Equal($"Simulated device 'sim:flaky:0' failed batch 2 (injected fault).", flaky.HealthReason);
        var moved = await Replica(FlakyModel).GetStatusAsync();
        Assert.Equal(($"{Silo}/sim:steady:0", "int8"), (moved.Device, moved.Variant));
        await WaitForMetricAsync("cluster_device_quarantines", "sim:flaky:0", 1);

        // The first probe is batch 3, still in the fault window; the second passes.
        await WaitUntilHealthyAsync($"{Silo}/sim:flaky:0");
        await WaitForMetricAsync("cluster_device_quarantined", "sim:flaky:0", 0);
        await _cluster.Client.InferAsync(FlakyModel, [Row()]);
        var back = await Replica(FlakyModel).GetStatusAsync();
        Assert.Equal(($"{Silo}/sim:flaky:0", "fp32"), (back.Device, back.Variant));
    }

    [Fact]
    public async Task DeviceHangs_BatchRetriedAfterTheTimeout_DeviceQuarantinedUntilTheHangEnds()
    {
        var started = Stopwatch.StartNew();
        var response = await _cluster.Client.InferAsync(HungModel, [Row()]);

        Assert.Single(response.Outputs);
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromMilliseconds(4500));
        var hung = await _cluster.Client.GetDeviceStatusAsync($"{Silo}/sim:hung:0");
        Assert.Equal(DeviceHealth.Unhealthy, hung.Health);
        Assert.Equal($"a batch of {HungModel}:1 did not finish within 500 ms", hung.HealthReason);

        await WaitUntilHealthyAsync($"{Silo}/sim:hung:0");
        Assert.True(started.Elapsed > TimeSpan.FromSeconds(5), "Probes pass only once the hung batch has ended.");
    }

    private IModelBatcherGrain Replica(string model) => _cluster.Connection.Grains.GetGrain<IModelBatcherGrain>($"{model}:1/0");

    private async Task WaitUntilHealthyAsync(string device)
    {
        var waited = Stopwatch.StartNew();
        while ((await _cluster.Client.GetDeviceStatusAsync(device)).Health != DeviceHealth.Healthy)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), $"{device} was not returned to service within 15 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the silo's Prometheus endpoint shows <paramref name="value"/> for the device's series.</summary>
    private async Task WaitForMetricAsync(string name, string device, double value)
    {
        using var http = new HttpClient();
        var waited = Stopwatch.StartNew();
        string? line = null;
        while (waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            var text = await http.GetStringAsync($"{_cluster.MetricsAddresses[0]}/metrics");
            line = text.Split('\n')
                .FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains($"device=\"{device}\"", StringComparison.Ordinal));
            if (line is not null && double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) == value)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{name} for {device} did not reach {value}; last: {line ?? "no series"}");
    }

    private static TensorData Row() => TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
}
