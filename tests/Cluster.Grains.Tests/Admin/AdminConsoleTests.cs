using System.Text.Json;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests.Admin;

/// <summary>Each console command against two in-process silos; every test steers its own model so their order does not matter.</summary>
public sealed class AdminConsoleTests(AdminClusterFixture fixture) : IClassFixture<AdminClusterFixture>
{
    private InProcessCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Status_ListsBothSilosActive()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("status");
        Assert.Equal(0, exit);
        Assert.Contains("2 active silo(s) of 2; draining: none", output, StringComparison.Ordinal);
        Assert.Contains("admin-a", output, StringComparison.Ordinal);
        Assert.Contains("admin-b", output, StringComparison.Ordinal);

        var (jsonExit, json, _) = await Cluster.RunCliAsync("status", "--json");
        Assert.Equal(0, jsonExit);
        var silos = JsonDocument.Parse(json).RootElement.GetProperty("silos").EnumerateArray().ToArray();
        Assert.Equal(["admin-a", "admin-b"], silos.Select(s => s.GetProperty("name").GetString()).Order());
        Assert.All(silos, s => Assert.Equal("Active", s.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Devices_ListsEachSilosCpuWithItsModels()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("devices");
        Assert.Equal(0, exit);
        Assert.Contains("admin-a/cpu:0", output, StringComparison.Ordinal);
        Assert.Contains("admin-b/cpu:0", output, StringComparison.Ordinal);
        Assert.Contains("Healthy", output, StringComparison.Ordinal);

        var (_, json, _) = await Cluster.RunCliAsync("devices", "--json");
        var devices = JsonDocument.Parse(json).RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, devices.Length);
        var loaded = devices.SelectMany(d => d.GetProperty("status").GetProperty("loaded_models").EnumerateArray().Select(m => m.GetString())).ToArray();
        Assert.Contains("tiny_classifier:2", loaded);
        Assert.All(devices, d => Assert.InRange(d.GetProperty("busy_fraction").GetDouble(), 0, 1));
    }

    [Fact]
    public async Task Model_ShowsEachVersionsStateAndReplica()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("model", "tiny_classifier");
        Assert.Equal(0, exit);
        Assert.Contains("tiny_classifier: loaded, max_batch_size 8, version policy latest 1, traffic split none", output, StringComparison.Ordinal);
        Assert.Contains("UNAVAILABLE: not served by the version policy", output, StringComparison.Ordinal);
        Assert.Matches(@"tiny_classifier\s+2\s+READY\s+-\s+admin-[ab]/cpu:0", output);

        var (jsonExit, json, _) = await Cluster.RunCliAsync("model", "tiny_classifier", "--json");
        Assert.Equal(0, jsonExit);
        var versions = JsonDocument.Parse(json).RootElement.GetProperty("versions").EnumerateArray().ToArray();
        Assert.Equal([2L, 1L], versions.Select(v => v.GetProperty("version").GetInt64()));
        Assert.True(versions[0].GetProperty("ready").GetBoolean());
        Assert.Equal("tiny_classifier:2/0", versions[0].GetProperty("replicas")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task Models_KeepsTheCatalogueAndAddsEachVersionsState()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("models");
        Assert.Equal(0, exit);
        Assert.Contains("tiny_classifier  (max_batch_size 8, served versions: 2)", output, StringComparison.Ordinal);
        Assert.Contains("input   features FP32 [-1,4]", output, StringComparison.Ordinal);
        Assert.Matches(@"v2  READY  on admin-[ab]/cpu:0  queue 0", output);
        Assert.Contains("v1  UNAVAILABLE (not served by the version policy)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_Unknown_ExitsOneNamingTheModels()
    {
        var (exit, _, error) = await Cluster.RunCliAsync("model", "nosuch");
        Assert.Equal(1, exit);
        Assert.Contains("ModelNotFoundException: Model 'nosuch' is not in the repository; models: int64_scale, tiny_classifier", error,
            StringComparison.Ordinal);

        var (loadExit, _, loadError) = await Cluster.RunCliAsync("load", "nosuch");
        Assert.Equal(1, loadExit);
        Assert.Contains("Model 'nosuch' is not in the repository", loadError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Split_EightyTwenty_SharesTwoThousandRequestsWithinFivePercent()
    {
        var (loadExit, load, _) = await Cluster.RunCliAsync("load", "int64_scale", "--version", "1");
        Assert.Equal(0, loadExit);
        Assert.Matches(@"int64_scale v1: replica int64_scale:1/0 warm on admin-[ab]/cpu:0 in \d+\.\d\d s", load);

        var (badExit, _, bad) = await Cluster.RunCliAsync("split", "int64_scale", "1=70", "2=20");
        Assert.Equal(1, badExit);
        Assert.Contains("OperationRefusedException: Traffic split of model 'int64_scale' sums to 90%; the shares must sum to 100.", bad,
            StringComparison.Ordinal);
        Assert.Empty((await Cluster.Connection.Admin.GetModelAsync("int64_scale")).Model.TrafficSplit);

        var (exit, output, _) = await Cluster.RunCliAsync("split", "int64_scale", "1=80", "2=20");
        Assert.Equal(0, exit);
        Assert.Contains("traffic split 1=80 2=20", output, StringComparison.Ordinal);

        var before = await SucceededPerVersionAsync("int64_scale");
        const int Requests = 2000;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < Requests / 8; i++)
            {
                await Cluster.Client.InferAsync("int64_scale", [TensorData.FromInt64("ids", [1, 2], 1, 2)]);
            }
        }));
        var after = await SucceededPerVersionAsync("int64_scale");
        var v1 = after[1] - before[1];
        var v2 = after[2] - before[2];
        Assert.Equal(Requests, v1 + v2);
        Assert.InRange((double)v1 / Requests, 0.75, 0.85);
    }

    [Fact]
    public async Task Unload_LastVersionWithTraffic_IsRefusedWithoutForce()
    {
        await Cluster.Client.InferAsync("two_in_two_out", [TensorData.FromFloat32("a", [1, 2, 3, 4], 1, 4), TensorData.FromFloat32("b", [1, 2, 3, 4], 1, 4)]);

        var (exit, _, error) = await Cluster.RunCliAsync("unload", "two_in_two_out");
        Assert.Equal(1, exit);
        Assert.Contains("OperationRefusedException: Model 'two_in_two_out' version 1 is the last served version and answered a request", error,
            StringComparison.Ordinal);
        Assert.Contains("Force the unload (--force)", error, StringComparison.Ordinal);
        Assert.False((await Cluster.Connection.Admin.GetModelAsync("two_in_two_out")).Model.Unloaded);

        var (forcedExit, forced, _) = await Cluster.RunCliAsync("unload", "two_in_two_out", "--force");
        Assert.Equal(0, forcedExit);
        Assert.Contains("two_in_two_out: unloaded", forced, StringComparison.Ordinal);
        Assert.Contains("UNAVAILABLE: unloaded", forced, StringComparison.Ordinal);

        var (loadExit, load, _) = await Cluster.RunCliAsync("load", "two_in_two_out");
        Assert.Equal(0, loadExit);
        Assert.Contains("two_in_two_out v1: replica two_in_two_out:1/0 warm on", load, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_StoresBoundsAndRefusesBadOnes()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("scale", "wide_mlp", "--min", "2", "--max", "4");
        Assert.Equal(0, exit);
        Assert.Contains("replicas min 2 max 4", output, StringComparison.Ordinal);
        Assert.Contains("stored for the autoscaler", output, StringComparison.Ordinal);

        var (badExit, _, bad) = await Cluster.RunCliAsync("scale", "wide_mlp", "--min", "5", "--max", "1");
        Assert.Equal(1, badExit);
        Assert.Contains("Replica bounds of model 'wide_mlp': need 0 <= min <= max and max >= 1; given min 5, max 1.", bad, StringComparison.Ordinal);
        Assert.Equal(4, (await Cluster.Connection.Admin.GetModelAsync("wide_mlp")).Model.Config.MaxReplicas);
    }

    [Fact]
    public async Task Drain_NewReplicasGoToTheOtherSilo()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("drain", "admin-b");
        Assert.Equal(0, exit);
        Assert.Contains("Silo admin-b is draining", output, StringComparison.Ordinal);
        Assert.Contains("2 active silo(s) of 2; draining: admin-b", output, StringComparison.Ordinal);
        try
        {
            // Three fresh replicas each: with admin-b draining, every one lands on admin-a.
            for (var round = 0; round < 3; round++)
            {
                Assert.Equal(0, (await Cluster.RunCliAsync("unload", "type_zoo", "--force")).Exit);
                var (loadExit, load, _) = await Cluster.RunCliAsync("load", "type_zoo");
                Assert.Equal(0, loadExit);
                Assert.Contains("type_zoo v1: replica type_zoo:1/0 warm on admin-a/cpu:0", load, StringComparison.Ordinal);
            }
        }
        finally
        {
            var (undrainExit, undrain, _) = await Cluster.RunCliAsync("undrain", "admin-b");
            Assert.Equal(0, undrainExit);
            Assert.Contains("draining: none", undrain, StringComparison.Ordinal);
        }

        var (badExit, _, bad) = await Cluster.RunCliAsync("drain", "nosuch");
        Assert.Equal(1, badExit);
        Assert.Contains("Silo 'nosuch' is not in the cluster; silos: admin-a, admin-b.", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warmup_ReportsTheDeviceEachReplicaWarmedOn()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("warmup", "tiny_classifier");
        Assert.Equal(0, exit);
        Assert.Matches(@"tiny_classifier v2: replica tiny_classifier:2/0 warm on admin-[ab]/cpu:0", output);
    }

    [Fact]
    public async Task Top_PrintsTheRequestedFramesAndExits()
    {
        var (exit, output, _) = await Cluster.RunCliAsync("top", "--iterations", "2", "--interval", "0.05");
        Assert.Equal(0, exit);
        Assert.Contains("frame 1 - 2 active silo(s)", output, StringComparison.Ordinal);
        Assert.Contains("frame 2 - 2 active silo(s)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("frame 3", output, StringComparison.Ordinal);
        Assert.Contains("admin-a/cpu:0", output, StringComparison.Ordinal);
        Assert.Contains("tiny_classifier", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quantize_WritesTheInt8VariantAndItsReportOnEachSilo()
    {
        var (exit, output, error) = await Cluster.RunCliAsync("quantize", "tiny_classifier", "--version", "1", "--int8");

        Assert.True(exit == 0, error);
        var file = Path.Combine(Cluster.ModelRepository, "tiny_classifier", "1", "model.int8.onnx");
        Assert.Matches(@"tiny_classifier v1 int8 on admin-a: .*model\.int8\.onnx .*, 2 node\(s\) converted", output);
        Assert.Matches(@"tiny_classifier v1 int8 on admin-b: ", output);
        Assert.Matches(@"against FP32 on 256 random samples: max abs difference [0-9.eE-]+, top-1 agreement (0\.9[5-9]|1\.0)", output);
        Assert.True(File.Exists(file));
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(file + ".report.json"));
        Assert.Equal("int8", report.RootElement.GetProperty("variant").GetString());
        Assert.Equal(256, report.RootElement.GetProperty("samples").GetInt32());
        Assert.InRange(report.RootElement.GetProperty("max_abs_difference").GetDouble(), 1e-6, 0.02);
    }

    [Theory]
    [InlineData(2, "Usage: quantize <model> [--version N] --int8|--fp16 [--json] (exactly one of", "quantize", "tiny_classifier")]
    [InlineData(2, "exactly one of --int8 and --fp16", "quantize", "tiny_classifier", "--int8", "--fp16")]
    [InlineData(2, "--version 'one' is not a whole number.", "quantize", "tiny_classifier", "--version", "one", "--int8")]
    [InlineData(1, "ModelNotFoundException: Model 'nosuch' is not in the repository", "quantize", "nosuch", "--int8")]
    [InlineData(1, "Model 'tiny_classifier' has no version 9; versions: 2, 1.", "quantize", "tiny_classifier", "--version", "9", "--int8")]
    [InlineData(1, "Model 'int64_scale' has no MatMul or Gemm node with a constant weight matrix", "quantize", "int64_scale", "--int8")]
    [InlineData(1, "OperationRefusedException: Model 'int64_scale': the variant was not written, Input 'ids' is Int64", "quantize", "int64_scale", "--fp16")]
    public async Task Quantize_BadArguments_AreRefusedNamingTheProblem(int expectedExit, string message, params string[] args)
    {
        var (exit, _, error) = await Cluster.RunCliAsync(args);

        Assert.Equal(expectedExit, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Cluster.ModelRepository, "int64_scale", "2", "model.fp16.onnx")), "a refused variant leaves no file");
    }

    [Fact]
    public async Task AdminCommand_OverTheGrpcEdge_IsAUsageError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Cli.ClusterCommandLine.RunAsync(["status", "--grpc", "127.0.0.1:1"], output, error);
        Assert.Equal(2, exit);
        Assert.Contains("'status' needs the admin API, which is reached through a silo gateway", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<Dictionary<long, long>> SucceededPerVersionAsync(string model) =>
        (await Cluster.Connection.Admin.GetModelAsync(model)).Versions.ToDictionary(v => v.Version, v => v.Replicas.Sum(r => r.Succeeded));
}
