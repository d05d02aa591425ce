using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Generation;
using Cluster.Grains.Devices;
using Cluster.Grains.Tests.Admin;
using Cluster.Inference.Generation;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests.Experiments;

/// <summary>
/// An A/B test of generation settings on the demo decoder: the arm with <c>max_running_sequences=1</c> and prefix caching off
/// runs a decoder of its own with those settings, the control keeps the version's shared one; keys from the SDK and from
/// OpenAI's <c>user</c> field stay in their arm, and each arm reports its time to first token and tokens per second.
/// </summary>
public sealed class GenerationExperimentTests
{
    private const string Model = DemoDecoder.Name;

    [Fact]
    public async Task GenerationExperiment_ArmSettingsOwnDecoderStickyKeysAndTokenFigures()
    {
        await using var cluster = await InProcessCluster.StartAsync(["lab"], prepareRepository: AddModel);
        var (exit, output, error) = await cluster.RunCliAsync(
            "experiment", "start", Model, "--arm", "control=1:50", "--arm", "narrow=1:50",
            "--set", "narrow.max_running_sequences=1", "--set", "narrow.prefix_caching=false");
        Assert.True(exit == 0, error);
        Assert.Contains("max_running_sequences=1 prefix_caching=false", output, StringComparison.Ordinal);
        var experiment = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Experiment;
        var keys = Enumerable.Range(0, 200).Select(i => $"user-{i}").ToArray();
        var narrowKeys = keys.Where(k => ExperimentAssignment.Choose(experiment, k, 0).Name == "narrow").Take(3).ToArray();
        var controlKeys = keys.Where(k => ExperimentAssignment.Choose(experiment, k, 0).Name == "control").Take(2).ToArray();

        foreach (var key in narrowKeys.Concat(controlKeys))
        {
            var result = await cluster.Client.GenerateTextAsync(Model, Request(key));
            Assert.Equal(4, result.GeneratedTokens);
        }

        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddresses[0]) };
        using var completion = await http.PostAsJsonAsync(
            "/v1/completions", new { model = Model, prompt = "Hello world", max_tokens = 4, temperature = 0, ignore_eos = true, user = narrowKeys[0] });
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        var id = (string)JsonNode.Parse(await completion.Content.ReadAsStringAsync())!["id"]!;
        await cluster.Client.SendFeedbackAsync(Model, id, accepted: true);

        var report = await cluster.Connection.Admin.GetExperimentAsync(Model);
        Assert.Equal((2, 4), (report.Arms[0].Requests, report.Arms[1].Requests));
        Assert.Equal((1, 1.0), (report.Arms[1].Feedback, report.Arms[1].AcceptanceRate!.Value));
        Assert.All(report.Arms, a => Assert.True(a.FirstTokenP50Milliseconds > 0 && a.TokensPerSecond > 0, $"{a.Arm}: no token figures"));
        Assert.All(report.Arms, a => Assert.True(a.FirstTokenP50Milliseconds <= a.P50Milliseconds, $"{a.Arm}: first token after the whole generation"));

        // The narrow arm's decoder runs its settings; the control's is the version's shared one, with the model's.
        var decoders = cluster.Silos[0].Services.GetRequiredService<LocalDecoders>();
        var device = "lab/cpu:0";
        Assert.Equal((1, false), Settings(decoders.Find(device, Model, 1, experiment.ReplicaArm("narrow"))));
        Assert.Equal((64, true), Settings(decoders.Find(device, Model, 1, "")));
        Assert.Null(decoders.Find(device, Model, 1, experiment.ReplicaArm("control")));

        (exit, output, error) = await cluster.RunCliAsync("experiment", "show", Model);
        Assert.True(exit == 0, error);
        Assert.Contains("first token p50 ms", output, StringComparison.Ordinal);
        Assert.Contains("tokens/s", output, StringComparison.Ordinal);

        (exit, _, _) = await cluster.RunCliAsync("experiment", "stop", Model);
        Assert.Equal(0, exit);
        Assert.Null(decoders.Find(device, Model, 1, experiment.ReplicaArm("narrow")));
        Assert.Equal(4, (await cluster.Client.GenerateTextAsync(Model, Request(narrowKeys[0]))).GeneratedTokens);
    }

    [Fact]
    public async Task GenerationExperiment_InstanceCountOrUnknownSetting_RefusedNamingIt()
    {
        await using var cluster = await InProcessCluster.StartAsync(["lab"], prepareRepository: AddModel);

        var (exit, _, error) = await cluster.RunCliAsync("experiment", "start", Model, "--arm", "a=1:50", "--arm", "b=1:50", "--set", "b.instance_count=2");
        Assert.NotEqual(0, exit);
        Assert.Contains("instance_count does not apply to a generation model", error, StringComparison.Ordinal);

        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddresses[0]) };
        using var tooLong = await http.PostAsJsonAsync("/v1/completions", new { model = Model, prompt = "Hi", user = new string('u', 257) });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("user must be at most 256 characters", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static GenerationRequest Request(string key) =>
        new() { Prompt = "Hello world", MaxTokens = 4, Temperature = 0, IgnoreEos = true, AssignmentKey = key };

    private static (int, bool) Settings(GenerationEngine? engine)
    {
        Assert.NotNull(engine);
        return (engine.Settings.MaxRunningSequences, engine.Settings.PrefixCaching);
    }

    /// <summary>The demo decoder on CPU devices.</summary>
    private static void AddModel(string repository)
    {
        DemoDecoder.Write(repository);
        File.WriteAllText(
            Path.Combine(repository, Model, "config.json"),
            DemoDecoder.ConfigJson.Replace("[\"cuda\", \"cpu\"]", "[\"cpu\"]", StringComparison.Ordinal));
    }
}
