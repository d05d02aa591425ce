using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cluster.Client.Protocol;
using static Cluster.Edge.Tests.EdgeFixture;

namespace Cluster.Edge.Tests;

/// <summary>The REST twin over HttpClient: health, metadata, inference, statistics, repository and errors.</summary>
[Collection(EdgeCollection.Name)]
public sealed class RestTests(EdgeFixture fixture)
{
    [Fact]
    public async Task Health_LiveAndReady_NeedNoKey()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/v2/health/ready")).StatusCode);
    }

    [Fact]
    public async Task ModelMetadataAndReady_DescribeTheModel()
    {
        using var metadata = await Json(await Send(HttpMethod.Get, "/v2/models/tiny_classifier"));
        Assert.Equal("tiny_classifier", metadata.RootElement.GetProperty("name").GetString());
        Assert.Equal("FP32", metadata.RootElement.GetProperty("inputs")[0].GetProperty("datatype").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/v2/models/tiny_classifier/versions/1/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "/v2/models/broken/ready")).StatusCode);
    }

    [Fact]
    public async Task Infer_JsonTensors_ReturnsJsonOutputs()
    {
        var body = new
        {
            id = "rest-1",
            inputs = new object[]
            {
                new { name = "a", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { new[] { 1f, 2f }, new[] { 3f, 4f } } },
                new { name = "b", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 2f, 2f, 2f, 2f } },
            },
            outputs = new[] { new { name = "sum" } },
        };
        var response = await Send(HttpMethod.Post, "/v2/models/two_in_two_out/versions/1/infer", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await Json(response);
        Assert.Equal("rest-1", json.RootElement.GetProperty("id").GetString());
        var output = json.RootElement.GetProperty("outputs")[0];
        Assert.Equal("sum", output.GetProperty("name").GetString());
        Assert.Equal([3f, 4f, 5f, 6f], output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task Infer_StringsAndInt64_RoundTrip()
    {
        var body = new
        {
            inputs = new object[]
            {
                new { name = "ids", shape = new[] { 1, 3 }, datatype = "INT64", data = new[] { 1L, 2L, 3L } },
            },
        };
        using var json = await Json(await Send(HttpMethod.Post, "/v2/models/int64_scale/infer", body));
        Assert.Equal([4L, 7L, 10L], json.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()));
    }

    [Theory]
    [InlineData("/v2/models/nope/infer", """{"inputs": []}""", HttpStatusCode.NotFound, "Model 'nope' is not in the repository")]
    [InlineData("/v2/models/tiny_classifier/infer", """{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]}""",
        HttpStatusCode.BadRequest, "\"data\" has 3 values; shape [1, 4] needs 4.")]
    [InlineData("/v2/models/tiny_classifier/infer", """{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, "x"]}]}""",
        HttpStatusCode.BadRequest, "holds a value that is not FP32")]
    [InlineData("/v2/models/tiny_classifier/infer", """{"inputs": 5}""", HttpStatusCode.BadRequest, "\"inputs\" is required and must be an array.")]
    [InlineData("/v2/models/tiny_classifier/infer", """{"inputs": [""", HttpStatusCode.BadRequest, "The request body is not valid JSON")]
    [InlineData("/v2/models/tiny_classifier/infer", """{"inputs": [{"name": "features", "shape": ["1", 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}""",
        HttpStatusCode.BadRequest, "has a bad dimension")]
    [InlineData("/v2/models/tiny_classifier/infer",
        """{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}], "outputs": {}}""", HttpStatusCode.BadRequest,
            "\"outputs\" must be an array")]
    [InlineData("/v2/models/broken/infer", """{"inputs": []}""", HttpStatusCode.ServiceUnavailable, "cannot be served")]
    public async Task Infer_BadRequest_JsonErrorWithStatus(string path, string body, HttpStatusCode status, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var response = await fixture.Http.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        using var json = await Json(response);
        Assert.Contains(message, json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerMetadata_RestAndGrpcDescribeTheSameServer()
    {
        using var rest = await Json(await Send(HttpMethod.Get, "/v2", key: InferKey));
        var grpc = await fixture.Grpc.ServerMetadataAsync(new ServerMetadataRequest(), Key(InferKey));

        var restExtensions = rest.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(grpc.Extensions, restExtensions);
        Assert.Contains("generate", restExtensions);
        Assert.DoesNotContain("model_configuration", restExtensions);
        Assert.Equal(grpc.Name, rest.RootElement.GetProperty("name").GetString());
        Assert.Equal(grpc.Version, rest.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Statistics_RestAndGrpcReportTheSameCounts()
    {
        var body = new
        {
            inputs = new object[]
            {
                new { name = "a", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 1f, 2f, 3f, 4f } },
                new { name = "b", shape = new[] { 1, 4 }, datatype = "FP32", data = new[] { 2f, 2f, 2f, 2f } },
            },
        };
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, "/v2/models/two_in_two_out/infer", body)).StatusCode);
        }

        var grpc = Assert.Single((await fixture.Grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "two_in_two_out" }, Key())).ModelStats);
        using var document = await Json(await Send(HttpMethod.Get, "/v2/models/two_in_two_out/stats"));
        var rest = Assert.Single(document.RootElement.GetProperty("model_stats").EnumerateArray());

        Assert.True(grpc.InferenceCount >= 3);
        Assert.Equal((grpc.Name, grpc.Version), (rest.GetProperty("name").GetString(), rest.GetProperty("version").GetString()));
        Assert.Equal(grpc.InferenceCount, rest.GetProperty("inference_count").GetUInt64());
        Assert.Equal(grpc.ExecutionCount, rest.GetProperty("execution_count").GetUInt64());
        Assert.Equal(grpc.LastInference, rest.GetProperty("last_inference").GetUInt64());
        var inference = rest.GetProperty("inference_stats");
        foreach (var (name, duration) in new[] { ("success", grpc.InferenceStats.Success), ("fail", grpc.InferenceStats.Fail),
            ("queue", grpc.InferenceStats.Queue), ("compute_infer", grpc.InferenceStats.ComputeInfer), ("cache_hit", grpc.InferenceStats.CacheHit) })
        {
            Assert.Equal((duration.Count, duration.Ns), (inference.GetProperty(name).GetProperty("count").GetUInt64(),
                inference.GetProperty(name).GetProperty("ns").GetUInt64()));
        }

        Assert.Equal(grpc.BatchStats.Select(b => (b.BatchSize, b.ComputeInfer.Count)), rest.GetProperty("batch_stats").EnumerateArray()
            .Select(b => (b.GetProperty("batch_size").GetUInt64(), b.GetProperty("compute_infer").GetProperty("count").GetUInt64())));
    }

    [Fact]
    public async Task StatsAndRepository_NeedAdminKey()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Http.GetAsync("/v2/models/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/v2/models/stats", key: InferKey)).StatusCode);
        using var stats = await Json(await Send(HttpMethod.Get, "/v2/models/tiny_classifier/stats"));
        Assert.Equal("tiny_classifier", stats.RootElement.GetProperty("model_stats")[0].GetProperty("name").GetString());
        using var index = await Json(await Send(HttpMethod.Post, "/v2/repository/index"));
        Assert.Contains(index.RootElement.EnumerateArray(), m => m.GetProperty("name").GetString() == "broken" && m.GetProperty("state")
            .GetString() == "UNAVAILABLE");
    }

    [Fact]
    public async Task Infer_NaNAndInfiniteOutputs_AnsweredWithTritonsBareTokens()
    {
        var body = new { inputs = new[] { new { name = "x", shape = new[] { 1, 3 }, datatype = "FP32", data = new[] { 0f, -1f, 1f } } } };
        var response = await Send(HttpMethod.Post, $"/v2/models/{LogModel}/infer", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"data\":[-Infinity,NaN,0]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body = null, string key = AdminKey)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return await fixture.Http.SendAsync(request);
    }

    private static async Task<JsonDocument> Json(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync());
}
