using Cluster.Silo.Configuration;
using Cluster.Silo.Edge;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;
using Grpc.Core;

namespace Cluster.Edge.Tests;

/// <summary>Keys never silently turn off: a keys file that does not parse, or an edge beyond loopback without keys, stops the start.</summary>
public sealed class KeysConfigurationTests
{
    [Theory]
    [InlineData("good-key infer\nbad-key\tinfer\n", "line 2 has a tab")]
    [InlineData("# keys\n\nbad-key,infer\n", "line 3 has 1 space-separated field(s), not 2")]
    [InlineData("good-key infer\nbad,key infer\n", "line 2 has a comma in its key")]
    [InlineData("good-key infer,admin\nother-key infer,root\n", "line 2 has an unknown scope")]
    [InlineData("good-key infer,\n", "line 1 has an unknown scope")]
    [InlineData("good-key infer\ngood-key admin\n", "line 2 repeats a key")]
    [InlineData("one-key infer admin\n", "line 1 has 3 space-separated field(s)")]
    [InlineData("", "has no keys")]
    [InlineData("# only a comment\n\n", "has no keys")]
    public void KeysFile_ThatDoesNotParse_StopsTheStartNamingTheLine(string contents, string expected)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, contents);
        try
        {
            var error = Assert.Throws<SiloConfigurationException>(() => Build(new() { ["Cluster:Edge:ApiKeysFile"] = file }));
            Assert.Contains($"Cluster:Edge:ApiKeysFile '{file}' {expected}", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("bad-key", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("good-key", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void KeysFile_WithCommentsAndCrLf_GrantsEachKeyItsScopes()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "# comment\r\n  short infer  \r\n\r\na-much-longer-key-of-sixty-four-characters-0123456789abcdef-xyz infer,admin\r\n");
        try
        {
            var keys = new ApiKeyAuthorizer(new EdgeSettings { ApiKeysFile = file });

            Assert.Equal(2, keys.Count);
            Assert.Null(keys.Check("Bearer short", ApiKeyAuthorizer.InferScope));
            Assert.Equal(StatusCode.PermissionDenied, keys.Check("Bearer short", ApiKeyAuthorizer.AdminScope)?.Status);
            Assert.Null(keys.Check("Bearer a-much-longer-key-of-sixty-four-characters-0123456789abcdef-xyz", ApiKeyAuthorizer.AdminScope));
            Assert.Equal(StatusCode.Unauthenticated, keys.Check("Bearer shor", ApiKeyAuthorizer.InferScope)?.Status);
            Assert.Equal(StatusCode.Unauthenticated, keys.Check("Bearer short-", ApiKeyAuthorizer.InferScope)?.Status);
            Assert.Equal(StatusCode.Unauthenticated, keys.Check(null, ApiKeyAuthorizer.InferScope)?.Status);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Edge_BeyondLoopbackWithoutKeys_RefusesToStart()
    {
        var error = Assert.Throws<SiloConfigurationException>(() => Build(new() { ["Cluster:Edge:HttpAddress"] = "0.0.0.0:8000" }));
        Assert.Contains("Cluster:Edge listens beyond loopback (gRPC 127.0.0.1:8001, HTTP 0.0.0.0:8000) without API keys", error.Message,
            StringComparison.Ordinal);
        Assert.Contains("Cluster:Edge:AllowUnauthenticatedBeyondLoopback=true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Edge_BeyondLoopback_StartsWithKeysOrWhenExplicitlyAllowed()
    {
        using var withKeys = Build(new()
        {
            ["Cluster:Edge:GrpcAddress"] = "0.0.0.0:8001",
            ["Cluster:Edge:ApiKeys:0:Key"] = "a-key",
            ["Cluster:Edge:ApiKeys:0:Scopes:0"] = "infer",
        });
        using var allowed = Build(new() { ["Cluster:Edge:GrpcAddress"] = "0.0.0.0:8001", ["Cluster:Edge:AllowUnauthenticatedBeyondLoopback"] = "true" });
    }

    private static IDisposable Build(Dictionary<string, string?> edge)
    {
        edge["Cluster:ModelRepository"] = RepositoryPaths.Models;
        edge["Cluster:BundledModels"] = "";
        edge["Cluster:Devices:Cuda"] = "none";
        return ClusterHost.Build([], edge);
    }
}
