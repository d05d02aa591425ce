using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cluster.Contracts.Models;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests.Admin;

/// <summary>The operator's decisions across a restart, a state folder that cannot be written, and the dashboard behind the admin key.</summary>
public sealed class AdminStateTests
{
    [Fact]
    public async Task Restart_WithTheSameStateFolder_KeepsTheOperatorsDecisions()
    {
        var state = Directory.CreateTempSubdirectory("cluster-state-restart-").FullName;
        try
        {
            await using (var cluster = await InProcessCluster.StartAsync(["keeper"], prepareRepository: AdminCli.PrepareRepository, stateDirectory: state))
            {
                Assert.Equal(0, (await cluster.RunCliAsync("unload", "two_in_two_out")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("load", "tiny_classifier", "--version", "1")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("split", "tiny_classifier", "1=30", "2=70")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("scale", "tiny_classifier", "--min", "2", "--max", "3")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("policy", "wide_mlp", "all")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("drain", "keeper")).Exit);
            }

            await using var restarted = await InProcessCluster.StartAsync(["keeper"], prepareRepository: AdminCli.PrepareRepository, stateDirectory: state);
            var admin = restarted.Connection.Admin;
            Assert.True((await admin.GetModelAsync("two_in_two_out")).Model.Unloaded);
            var tiny = await admin.GetModelAsync("tiny_classifier");
            Assert.Equal("1=30 2=70", TrafficSplit.Format(tiny.Model.TrafficSplit));
            Assert.Equal((2, 3), (tiny.Model.Config.MinReplicas, tiny.Model.Config.MaxReplicas));
            Assert.All(tiny.Versions, v => Assert.True(v.Ready));
            Assert.Equal(VersionPolicyKind.All, (await admin.GetModelAsync("wide_mlp")).Model.Config.VersionPolicy.Kind);
            Assert.Equal(["keeper"], await admin.GetDrainingSilosAsync());

            var (exit, output, _) = await restarted.RunCliAsync("model", "tiny_classifier");
            Assert.Equal(0, exit);
            Assert.Contains("traffic split 1=30 2=70, replicas min 2 max 3", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_WithTruncatedStateFiles_StartsFromTheRepositoryDefaults()
    {
        var state = Directory.CreateTempSubdirectory("cluster-state-corrupt-").FullName;
        try
        {
            await using (var cluster = await InProcessCluster.StartAsync(["mender"], stateDirectory: state))
            {
                Assert.Equal(0, (await cluster.RunCliAsync("unload", "two_in_two_out")).Exit);
                Assert.Equal(0, (await cluster.RunCliAsync("drain", "mender")).Exit);
            }

            var files = Directory.GetFiles(state);
            Assert.Equal(2, files.Length);
            foreach (var file in files)
            {
                // What a crash in the middle of a write by a careless writer leaves: the first half of the JSON.
                var text = await File.ReadAllTextAsync(file);
                await File.WriteAllTextAsync(file, text[..(text.Length / 2)]);
            }

            await using var restarted = await InProcessCluster.StartAsync(["mender"], stateDirectory: state);
            var admin = restarted.Connection.Admin;
            Assert.False((await admin.GetModelAsync("two_in_two_out")).Model.Unloaded);
            Assert.Empty(await admin.GetDrainingSilosAsync());
            var names = Directory.GetFiles(state).Select(Path.GetFileName).ToList();
            Assert.All(files, f => Assert.Single(names, n => n!.StartsWith(Path.GetFileName(f) + ".corrupt-", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_WithRedisClustering_KeepsTheDecisionsInRedis()
    {
        using var redis = await RedisServer.StartAsync();
        await using (var cluster =
            await InProcessCluster.StartAsync(["redis-keeper"], redis: redis.ConnectionString, prepareRepository: AdminCli.PrepareRepository))
        {
            Assert.Equal(0, (await cluster.RunCliAsync("load", "int64_scale", "--version", "1")).Exit);
            Assert.Equal(0, (await cluster.RunCliAsync("split", "int64_scale", "1=60", "2=40")).Exit);
            Assert.Equal(0, (await cluster.RunCliAsync("drain", "redis-keeper")).Exit);
            Assert.Empty(Directory.GetFiles(cluster.StateDirectory));
        }

        await using var restarted =
            await InProcessCluster.StartAsync(["redis-keeper"], redis: redis.ConnectionString, prepareRepository: AdminCli.PrepareRepository);
        Assert.Equal("1=60 2=40", TrafficSplit.Format((await restarted.Connection.Admin.GetModelAsync("int64_scale")).Model.TrafficSplit));
        Assert.Equal(["redis-keeper"], await restarted.Connection.Admin.GetDrainingSilosAsync());
    }

    [Fact]
    public async Task Decision_StateFolderNotWritable_FailsTheOperationAndChangesNothing()
    {
        var file = Path.GetTempFileName();
        try
        {
            await using var cluster = await InProcessCluster.StartAsync(["unwritable"], stateDirectory: Path.Combine(file, "state"));
            var (exit, _, error) = await cluster.RunCliAsync("scale", "tiny_classifier", "--max", "2");
            Assert.Equal(1, exit);
            Assert.Contains("ClusterStateException: The decision about model 'tiny_classifier' could not be saved, so nothing changed:", error,
                StringComparison.Ordinal);
            Assert.Equal(1, (await cluster.Connection.Admin.GetModelAsync("tiny_classifier")).Model.Config.MaxReplicas);

            var (drainExit, _, drainError) = await cluster.RunCliAsync("drain", "unwritable");
            Assert.Equal(1, drainExit);
            Assert.Contains("ClusterStateException: Marking silo 'unwritable' draining could not be saved", drainError, StringComparison.Ordinal);
            Assert.Empty(await cluster.Connection.Admin.GetDrainingSilosAsync());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Dashboard_WithApiKeys_NeedsTheAdminKey()
    {
        await using var cluster = await InProcessCluster.StartAsync(["keyed"], perSilo: _ => new()
        {
            ["Cluster:Edge:ApiKeys:0:Key"] = "admin-secret",
            ["Cluster:Edge:ApiKeys:0:Scopes:0"] = "admin",
            ["Cluster:Edge:ApiKeys:1:Key"] = "infer-secret",
            ["Cluster:Edge:ApiKeys:1:Scopes:0"] = "infer",
        });
        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddresses[0]) };

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(http, "Bearer", "infer-secret")).StatusCode);

        using var bearer = await Get(http, "Bearer", "admin-secret");
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Contains("<html", await bearer.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        using var basic = await Get(http, "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:admin-secret")));
        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
    }

    private static Task<HttpResponseMessage> Get(HttpClient http, string scheme, string credentials)
    {
        // The dashboard's page is /dashboard/ (/dashboard redirects there, and a redirect drops the header).
        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, credentials);
        return http.SendAsync(request);
    }
}
