using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Client;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Tests.Admin;

namespace Cluster.Grains.Tests.Experiments;

/// <summary>
/// Sticky assignment across two real silos of one cluster and a restart of the whole cluster: a key lands in its hashed arm
/// whether the SDK or either silo's REST edge routes it, before and after the restart. The arm with <c>instance_count=2</c>
/// loads sessions of its own.
/// </summary>
public sealed class ExperimentStickinessTests
{
    private const string Model = "sticky_model";

    [Fact]
    public async Task AssignmentKey_AnySilosEdgeOrTheSdk_SameArmBeforeAndAfterARestart()
    {
        var state = Directory.CreateTempSubdirectory("cluster-state-sticky-").FullName;
        try
        {
            Experiment experiment;
            var keys = Enumerable.Range(0, 12).Select(i => $"session-{i}").ToArray();
            await using (var cluster = await StartAsync(state))
            {
                var (exit, _, error) = await cluster.RunCliAsync(
                    "experiment", "start", Model, "--arm", "a=1:50", "--arm", "b=1:50", "--set", "b.instance_count=2");
                Assert.True(exit == 0, error);
                experiment = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Experiment;
                Assert.Equal(2, keys.Select(k => ExperimentAssignment.Choose(experiment, k, 0).Name).Distinct().Count());
                await AssertStickyAsync(cluster, experiment, keys);

                // The arm with its own instance count runs sessions of its own; the other shares the version's.
                var loaded = (await cluster.Connection.Admin.GetDevicesAsync()).SelectMany(d => d.Status.LoadedModels).ToArray();
                Assert.Contains($"{Model}:1@{experiment.ReplicaArm("b")}", loaded);
                Assert.Contains($"{Model}:1", loaded);
                Assert.DoesNotContain($"{Model}:1@{experiment.ReplicaArm("a")}", loaded);
            }

            await using (var restarted = await StartAsync(state))
            {
                Assert.Equal(experiment.Id, (await restarted.Connection.Admin.GetExperimentAsync(Model)).Experiment.Id);
                await AssertStickyAsync(restarted, experiment, keys);
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Every key's answer names its hashed arm, through the SDK and through each silo's REST edge.</summary>
    private static async Task AssertStickyAsync(InProcessCluster cluster, Experiment experiment, string[] keys)
    {
        Assert.Equal(2, cluster.HttpAddresses.Count);
        foreach (var key in keys)
        {
            var expected = experiment.ReplicaArm(ExperimentAssignment.Choose(experiment, key, 0).Name);
            var arms = new List<string> { (await cluster.Client.InferAsync(Model, [Row()], options: new InferOptions { AssignmentKey = key })).Arm };
            foreach (var address in cluster.HttpAddresses)
            {
                arms.Add(await RestArmAsync(address, key));
            }

            Assert.All(arms, arm => Assert.Equal(expected, arm));
        }
    }

    private static async Task<string> RestArmAsync(string address, string key)
    {
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        using var infer = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{Model}/infer")
        {
            Content = JsonContent.Create(
                new { inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { 1, 4 }, data = new[] { 1f, 2f, 3f, 4f } } } }),
        };
        infer.Headers.Add("X-Experiment-Key", key);
        using var answer = await http.SendAsync(infer);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return (string)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["parameters"]!["experiment_arm"]!;
    }

    private static Task<InProcessCluster> StartAsync(string state) => InProcessCluster.StartAsync(
        ["sticky-a", "sticky-b"],
        perSilo: _ => new() { ["Cluster:Devices:Simulated:0:Profile"] = "steady" },
        prepareRepository: repository => ClassifierCopies.Add(repository, Model, """{"max_batch_size": 8, "device_kinds": ["sim:steady"]}"""),
        stateDirectory: state);

    private static TensorData Row() => TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
}
