using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Tests.Admin;
using Cluster.Client.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Grains.Tests.Experiments;

/// <summary>
/// An operator's A/B test of batching settings on a real silo: a control, an arm with <c>max_batch_size=1</c>, and an arm
/// whose device (a simulated one that fails every batch after warm-up) makes its requests fail, so its guard rail stops it.
/// The p99 limit is set out of reach: on a shared test machine a few slow requests would stop a healthy arm.
/// </summary>
public sealed class ExperimentTests
{
    private const string Model = "ab_model";

    [Fact]
    public async Task Experiment_FromTheConsole_StickyArmsCountsFeedbackGuardRailRestartAndPromote()
    {
        var state = Directory.CreateTempSubdirectory("cluster-state-experiment-").FullName;
        try
        {
            Experiment experiment;
            await using (var cluster = await StartAsync(state))
            {
                var (exit, output, error) = await cluster.RunCliAsync(
                    "experiment", "start", Model, "--arm", "control=1:40", "--arm", "single=1:30", "--arm", "broken=1:30",
                    "--set", "single.max_batch_size=1", "--set", "broken.device_kinds=sim:broken", "--min-requests", "10", "--window-seconds", "60",
                    "--max-p99-ratio", "1000");
                Assert.True(exit == 0, error);
                Assert.Contains("max_batch_size=1", output, StringComparison.Ordinal);
                experiment = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Experiment;

                await StickyAssignmentAndCountsAsync(cluster, experiment);
                await FeedbackAsync(cluster, experiment);
                await RestEdgeAsync(cluster, experiment);
                await GrpcSdkAsync(cluster, experiment);
                await GuardRailAsync(cluster, experiment);
            }

            await using (var restarted = await StartAsync(state))
            {
                var kept = (await restarted.Connection.Admin.GetExperimentAsync(Model)).Experiment;
                Assert.Equal(experiment.Id, kept.Id);
                Assert.StartsWith("error rate 100.0%", kept.Arm("broken")!.StoppedReason, StringComparison.Ordinal);
                Assert.Equal([70, 30, 0], kept.LiveShares());

                var (exit, _, error) = await restarted.RunCliAsync("experiment", "promote", Model, "single");
                Assert.True(exit == 0, error);
                var model = (await restarted.Connection.Admin.GetModelAsync(Model)).Model;
                Assert.Null(model.Experiment);
                Assert.Equal(1, model.Config.MaxBatchSize);
                var refused = await Assert.ThrowsAsync<InvalidInputException>(() => restarted.Client.InferAsync(Model, [Rows(2)]));
                Assert.Contains("batch", refused.Message, StringComparison.OrdinalIgnoreCase);
                Assert.Equal(1, (await restarted.RunCliAsync("experiment", "show", Model)).Exit);
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Keys of the two healthy arms always land in their hashed arm; each arm counts exactly its requests; each arm's settings apply to it
    /// alone.</summary>
    private static async Task StickyAssignmentAndCountsAsync(InProcessCluster cluster, Experiment experiment)
    {
        var answered = new Dictionary<string, int>(StringComparer.Ordinal);
        var keys = Enumerable.Range(0, 60).Select(i => $"user-{i}").Where(k => ExperimentAssignment.Choose(experiment, k, 0).Name != "broken").ToList();
        foreach (var key in keys)
        {
            var expected = experiment.ReplicaArm(ExperimentAssignment.Choose(experiment, key, 0).Name);
            for (var repeat = 0; repeat < 2; repeat++)
            {
                var response = await cluster.Client.InferAsync(Model, [Rows(1)], options: new InferOptions { AssignmentKey = key });
                Assert.Equal(expected, response.Arm);
                answered[response.Arm] = answered.GetValueOrDefault(response.Arm) + 1;
            }
        }

        var controlKey = keys.First(k => ExperimentAssignment.Choose(experiment, k, 0).Name == "control");
        var singleKey = keys.First(k => ExperimentAssignment.Choose(experiment, k, 0).Name == "single");
        Assert.Equal(2, (await cluster.Client.InferAsync(Model, [Rows(2)], options: new InferOptions { AssignmentKey = controlKey })).Outputs[0].Shape[0]);
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            cluster.Client.InferAsync(Model, [Rows(2)], options: new InferOptions { AssignmentKey = singleKey }));

        var report = await cluster.Connection.Admin.GetExperimentAsync(Model);
        Assert.Equal(answered[experiment.ReplicaArm("control")] + 1, report.Arms[0].Requests);
        Assert.Equal(answered[experiment.ReplicaArm("single")], report.Arms[1].Requests);
        Assert.Equal(0, report.Arms[2].Requests);
        Assert.All(report.Arms, a => Assert.Equal(0, a.ErrorRate));
    }

    /// <summary>Feedback by the id a request was answered with counts once, for the arm that answered; an unknown id is refused naming it.</summary>
    private static async Task FeedbackAsync(InProcessCluster cluster, Experiment experiment)
    {
        var key = ExperimentKeys.For(experiment, "single", "fb-");
        var response = await cluster.Client.InferAsync(Model, [Rows(1)], id: "answer-1", options: new InferOptions { AssignmentKey = key });

        await cluster.Client.SendFeedbackAsync(Model, response.Id, accepted: true);
        var twice = await Assert.ThrowsAsync<RequestNotFoundException>(() => cluster.Client.SendFeedbackAsync(Model, response.Id, accepted: false));
        var unknown = await Assert.ThrowsAsync<RequestNotFoundException>(() => cluster.Client.SendFeedbackAsync(Model, "nope", accepted: true));

        Assert.Contains("id 'answer-1'", twice.Message, StringComparison.Ordinal);
        Assert.Contains("id 'nope' was not answered by experiment", unknown.Message, StringComparison.Ordinal);
        var single = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Arms[1];
        Assert.Equal((1, 1.0), (single.Feedback, single.AcceptanceRate!.Value));
    }

    /// <summary>The REST edge takes the key from a header, names the arm in the answer, and refuses feedback on an unknown id with 404.</summary>
    private static async Task RestEdgeAsync(InProcessCluster cluster, Experiment experiment)
    {
        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddresses[0]) };
        var key = ExperimentKeys.For(experiment, "single", "rest-");
        using var infer = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{Model}/infer")
        {
            Content = JsonContent.Create(
                new { inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { 1, 4 }, data = new[] { 1f, 2f, 3f, 4f } } } }),
        };
        infer.Headers.Add("X-Experiment-Key", key);
        using var answer = await http.SendAsync(infer);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var body = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
        Assert.Equal(experiment.ReplicaArm("single"), (string?)body["parameters"]!["experiment_arm"]);

        using var feedback = await http.PostAsJsonAsync($"/v2/models/{Model}/feedback", new { id = "nope", accepted = true });
        Assert.Equal(HttpStatusCode.NotFound, feedback.StatusCode);
        Assert.Contains("id 'nope'", await feedback.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var missing = await http.PostAsJsonAsync($"/v2/models/{Model}/feedback", new { id = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("field 'accepted'", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The SDK over the gRPC edge leaves a versionless request's version to the edge, so the key keeps it in its arm; feedback
    /// goes over the edge's ModelFeedback call, and an unknown id is NOT_FOUND naming it.
    /// </summary>
    private static async Task GrpcSdkAsync(InProcessCluster cluster, Experiment experiment)
    {
        using var channel = GrpcChannel.ForAddress(cluster.GrpcAddresses[0]);
        using var client = InferenceClient.ForGrpc(channel);
        var key = ExperimentKeys.For(experiment, "single", "grpc-");
        var response = await client.InferAsync(Model, [Rows(1)], id: "grpc-answer", options: new InferOptions { AssignmentKey = key });
        Assert.Equal(experiment.ReplicaArm("single"), response.Arm);

        await client.SendFeedbackAsync(Model, "grpc-answer", accepted: false);
        var unknown = await Assert.ThrowsAsync<RequestNotFoundException>(() => client.SendFeedbackAsync(Model, "grpc-nope", accepted: true));
        Assert.Contains("id 'grpc-nope'", unknown.Message, StringComparison.Ordinal);
        var extensions = new ClusterExtensions.ClusterExtensionsClient(channel);
        var withoutAccepted = new ModelFeedbackRequest { ModelName = Model, Id = "x" };
        var missing = await Assert.ThrowsAsync<RpcException>(() => extensions.ModelFeedbackAsync(withoutAccepted).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (missing.StatusCode, missing.Status.Detail.Contains("field 'accepted'", StringComparison.Ordinal)));
        var single = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Arms[1];
        Assert.Equal((2, 0.5), (single.Feedback, single.AcceptanceRate!.Value));
    }

    /// <summary>The arm on the failing device breaks its error-rate limit, is stopped, and its keys then go to the control.</summary>
    private static async Task GuardRailAsync(InProcessCluster cluster, Experiment experiment)
    {
        var brokenKeys = Enumerable.Range(0, 200).Select(i => $"user-{i}").Where(k => ExperimentAssignment.Choose(experiment, k, 0).Name == "broken").Take(12)
            .ToList();

        // A client whose clock stands still keeps its resolution, which names the arm live, until something tells it otherwise.
        using var stale = new InferenceClient(cluster.Connection.Grains, new FrozenTime());
        Assert.Null((await stale.ResolveAsync(Model)).Experiment!.Arm("broken")!.StoppedReason);
        foreach (var key in brokenKeys)
        {
            await Assert.ThrowsAnyAsync<InferenceException>(() =>
                cluster.Client.InferAsync(Model, [Rows(1)], options: new InferOptions { AssignmentKey = key }));
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await cluster.Connection.Admin.GetExperimentAsync(Model)).Experiment.Arm("broken")!.StoppedReason is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        var report = await cluster.Connection.Admin.GetExperimentAsync(Model);
        Assert.Equal(12, report.Arms[2].Requests);
        Assert.Equal(1.0, report.Arms[2].ErrorRate);
        Assert.Equal(0, report.Arms[2].Percent);
        Assert.StartsWith("error rate 100.0% against the control's 0.0%", report.Experiment.Arm("broken")!.StoppedReason, StringComparison.Ordinal);

        // The stale resolution still names the stopped arm: its replica turns the first request away to the model's replicas
        // without failing it, and the client resolves again, so the next ones land in the control.
        var rerouted = new List<string>();
        foreach (var key in brokenKeys.Take(3))
        {
            rerouted.Add((await stale.InferAsync(Model, [Rows(1)], options: new InferOptions { AssignmentKey = key })).Arm);
        }

        Assert.Equal(experiment.ReplicaArm("control"), rerouted[^1]);
        Assert.DoesNotContain(experiment.ReplicaArm("broken"), rerouted);

        var (exit, output, _) = await cluster.RunCliAsync("experiment", "show", Model);
        Assert.Equal(0, exit);
        Assert.Contains("stopped by guard rail: error rate 100.0%", output, StringComparison.Ordinal);
        Assert.Contains("not yet significant", output, StringComparison.Ordinal);
    }

    private static Task<InProcessCluster> StartAsync(string state) => InProcessCluster.StartAsync(
        ["lab"],
        perSilo: _ => new()
        {
            ["Cluster:Devices:ProbeIntervalMilliseconds"] = "600000",
            ["Cluster:Devices:Simulated:0:Profile"] = "steady",
            ["Cluster:Devices:Simulated:1:Profile"] = "broken",
            ["Cluster:Devices:Simulated:1:Fault:Mode"] = "throw",
            ["Cluster:Devices:Simulated:1:Fault:AfterBatches"] = "1",
            ["Cluster:Devices:Simulated:1:Fault:ForBatches"] = "1000000",
        },
        prepareRepository: repository => ClassifierCopies.Add(repository, Model, """{"max_batch_size": 8, "device_kinds": ["sim:steady"]}"""),
        stateDirectory: state);

    /// <summary>A clock that never moves, so cached resolutions never expire.</summary>
    private sealed class FrozenTime : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    private static TensorData Rows(int count) => TensorData.FromFloat32("features", [.. Enumerable.Range(0, count * 4).Select(i => (float)i)], count, 4);
}
