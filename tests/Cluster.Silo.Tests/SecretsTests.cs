using System.Globalization;
using System.Net.Http.Headers;
using Cluster.Tests.Shared;

namespace Cluster.Silo.Tests;

/// <summary>API keys, from configuration and from a keys file, never reach the silo's log (at Debug) or any answer.</summary>
public sealed class SecretsTests
{
    private const string ConfiguredKey = "cfg-secret-7f3a9c";
    private const string FileKey = "file-secret-2b8d41";
    private const string WrongKey = "wrong-secret-c0ffee";

    [Fact]
    public async Task ApiKeys_UsedRightAndWrong_NeverLoggedOrEchoed()
    {
        var ports = FreePorts.Take(5);
        var keysFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(keysFile, $"# admin key\n{FileKey} infer,admin\n");
        using var silo = ChildProcess.Start(Path.Combine("silo", "Cluster.Silo"), "Cluster.Silo", [], new Dictionary<string, string>
        {
            ["Cluster__SiloName"] = "secrets-test",
            ["Cluster__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Cluster__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Cluster__Devices__Cuda"] = "none",
            ["Cluster__BundledModels"] = "",
            ["Cluster__Edge__GrpcAddress"] = $"127.0.0.1:{ports[2]}",
            ["Cluster__Edge__HttpAddress"] = $"127.0.0.1:{ports[3]}",
            ["Cluster__MetricsAddress"] = $"127.0.0.1:{ports[4]}",
            ["Cluster__Edge__ApiKeys__0__Key"] = ConfiguredKey,
            ["Cluster__Edge__ApiKeys__0__Scopes__0"] = "infer",
            ["Cluster__Edge__ApiKeysFile"] = keysFile,
            ["Logging__LogLevel__Default"] = "Debug",
        });
        await silo.WaitForOutputAsync("Silo secrets-test ready", TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[3]}") };
        const string Body = """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""";
        const string BadBody = """{"inputs":[{"name":"features","datatype":"FP32","shape":[1,5],"data":[1,2,3,4,5]}]}""";

        var answers = new List<string>
        {
            await SendAsync(http, "/v2/models/tiny_classifier/infer", Body, ConfiguredKey, expected: 200),
            await SendAsync(http, "/v2/models/tiny_classifier/infer", BadBody, ConfiguredKey, expected: 400),
            await SendAsync(http, "/v2/models/stats", null, ConfiguredKey, expected: 403),
            await SendAsync(http, "/v2/models/stats", null, FileKey, expected: 200),
            await SendAsync(http, "/v2/models/tiny_classifier/infer", Body, WrongKey, expected: 401),
            await SendAsync(http, "/dashboard/", null, WrongKey, expected: 401),
        };
        var (grpcExit, grpcOutput) =
            await ChildProcess.RunCliAsync("infer", "tiny_classifier", "--input", "features=1,2,3", "--grpc", $"127.0.0.1:{ports[2]}", "--api-key", WrongKey);
        answers.Add(grpcOutput);
        silo.Terminate();
        await silo.WaitForExitAsync(TimeSpan.FromSeconds(10));
        File.Delete(keysFile);

        Assert.NotEqual(0, grpcExit);
        Assert.Contains("The API key is not valid.", grpcOutput, StringComparison.Ordinal);
        Assert.Contains("dbug:", silo.Output, StringComparison.Ordinal);
        Assert.Contains("Edge authentication: API keys required (2 keys)", silo.Output, StringComparison.Ordinal);
        foreach (var secret in new[] { ConfiguredKey, FileKey, WrongKey })
        {
            Assert.DoesNotContain(secret, silo.Output, StringComparison.Ordinal);
            Assert.All(answers, answer => Assert.DoesNotContain(secret, answer, StringComparison.Ordinal));
        }
    }

    private static async Task<string> SendAsync(HttpClient http, string path, string? body, string key, int expected)
    {
        using var request =
            new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path) { Content = body is null ? null : new StringContent(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {text}");
        return string.Join('\n', response.Headers.Select(h => $"{h.Key}: {string.Join(',', h.Value)}")) + text;
    }
}
