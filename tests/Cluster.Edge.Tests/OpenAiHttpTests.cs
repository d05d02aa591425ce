using System.Text.Json;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Grains;
using static Cluster.Edge.Tests.GenerationStreamTests;
using static Cluster.Edge.Tests.TextHttp;

namespace Cluster.Edge.Tests;

/// <summary>The <c>/v1</c> routes as raw HTTP: the legacy completions endpoint, the model list, refusals in OpenAI's shape, and a client leaving
/// mid-stream.</summary>
[Collection(EdgeCollection.Name)]
public sealed class OpenAiHttpTests(EdgeFixture fixture)
{
    private const string Completion = """{"model": "tiny_gpt", "prompt": "Hello world", "max_tokens": 8, "temperature": 0, "ignore_eos": true""";

    [Fact]
    public async Task Completions_Greedy_SameTextAndUsageAsTheSdk()
    {
        var expected =
            await fixture.Cluster.Client.GenerateTextAsync(Model, new GenerationRequest { Prompt = Prompt, MaxTokens = 8, Temperature = 0, IgnoreEos = true });

        var (status, body) = await PostJsonAsync(fixture.Http, "/v1/completions", Completion + "}");

        Assert.Equal(200, status);
        Assert.StartsWith("cmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(("text_completion", Model), (body.GetProperty("object").GetString(), body.GetProperty("model").GetString()));
        Assert.True(body.GetProperty("created").GetInt64() > 1_700_000_000);
        var choice = body.GetProperty("choices").EnumerateArray().Single();
        Assert.Equal((expected.Text, "length", 0),
            (choice.GetProperty("text").GetString(), choice.GetProperty("finish_reason").GetString(), choice.GetProperty("index").GetInt32()));
        Assert.Equal((2, 8, 10), Usage(body));
    }

    [Fact]
    public async Task Completions_StreamWithUsage_PiecesThenFinishThenUsageThenDone()
    {
        var (_, whole) = await PostJsonAsync(fixture.Http, "/v1/completions", Completion + "}");
        using var response =
            await PostAsync(fixture.Http, "/v1/completions", Completion +
                """, "stream": true, "stream_options": {"include_usage": true}, "stop": null, "user": "u-1"}""");

        var events = await EventsAsync(response);

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal(whole.GetProperty("model").GetString(), c.GetProperty("model").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        var choices = chunks.SkipLast(1).Select(c => c.GetProperty("choices").EnumerateArray().Single()).ToList();
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), string.Concat(choices.Select(c => c.GetProperty("text").GetString())));
        Assert.Equal("length", choices[^1].GetProperty("finish_reason").GetString());
        Assert.All(choices.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind));
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal((2, 8, 10), Usage(chunks[^1]));
        Assert.InRange(choices.Count - 1, 2, 8);
    }

    [Fact]
    public async Task ChatStream_RoleChunkFirstAndNoUsageUnlessAsked()
    {
        using var response = await PostAsync(fixture.Http, "/v1/chat/completions",
            """{"model": "tiny_gpt", "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text":""" +
                """ "Hello"}, {"type": "text", "text": " world"}]}], "max_completion_tokens": 6, "temperature": 0, "stream": true}""");

        var events = await EventsAsync(response);

        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.Equal("[DONE]", events[^1]);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.NotEqual(JsonValueKind.Null, chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
    }

    [Fact]
    public async Task Models_ListsGenerationModelsOnly()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new("Bearer", EdgeFixture.InferKey);
        using var response = await fixture.Http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal("list", body.GetProperty("object").GetString());
        var ids = body.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains(Model, ids);
        Assert.DoesNotContain("tiny_classifier", ids);
        Assert.All(body.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task NoKey_401InOpenAiShape()
    {
        var (status, body) = await PostJsonAsync(fixture.Http, "/v1/completions", Completion + "}", key: null);

        Assert.Equal(401, status);
        Assert.Equal(("An API key is required: send 'authorization: Bearer <key>'.", "invalid_request_error", "invalid_api_key"), Error(body));
    }

    public static TheoryData<string, string, int, string?, string> BadCases => new()
    {
        { "chat/completions", """{"model": "tiny_gpt", "messages": [""", 400, null, "The request body is not valid JSON" },
        { "chat/completions", """[1, 2]""", 400, null, "The request body must be a JSON object, not a list." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 0.5}""", 400, "frequency_penalty",
            "Unrecognized request argument supplied: frequency_penalty." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "8"}""", 400, "max_tokens",
            "max_tokens must be an integer, got a string." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "temperature": true}""", 400, "temperature",
            "temperature must be a number, got a boolean true." },
        { "chat/completions", """{"model": "tiny_gpt"}""", 400, "messages", "messages is required" },
        { "chat/completions", """{"messages": [{"role": "user", "content": "hi"}]}""", 400, "model", "model is required" },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}, {"role": "wizard", "content": "hi"}]}""", 400,
            "messages[1].role", "messages[1].role must be one of developer, system, user, assistant, tool; got \"wizard\"." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user"}]}""", 400, "messages[0].content", "messages[0].content is required" },
        { "chat/completions",
            """{"model": "tiny_gpt", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]}""", 400,
                "messages[0].content[0].type", "messages[0].content[0].type must be \"text\"; got \"image_url\"." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "assistant", "content": "x", "tool_calls": []}]}""", 400, "messages[0].tool_calls",
            "messages[0].tool_calls is not supported" },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "n": 2}""", 400, "n", "n must be 1" },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "stop": 5}""", 400, "stop",
            "stop must be a string or a list of strings, got a number." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 5000}""", 400,
            "max_completion_tokens", "max_tokens must be between 1 and" },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "top_p": 1.5}""", 400, "top_p",
            "top_p must be above 0 and at most 1, got 1.5." },
        { "chat/completions", """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_obfuscation": true}}""",
            400, "stream_options.include_obfuscation", "not supported" },
        { "chat/completions", """{"model": "tiny_classifier", "messages": [{"role": "user", "content": "hi"}]}""", 400, "model", "does not generate text" },
        { "chat/completions", """{"model": "tiny_gpt", "messages": []}""", 400, "messages", "messages is empty" },
        { "completions", """{"model": "tiny_gpt", "prompt": ["a", "b"]}""", 400, "prompt",
            "prompt must be a string or a list of one string; got a list of 2 items." },
        { "completions", """{"model": "tiny_gpt", "prompt": ""}""", 400, "prompt", "text_input is empty" },
        { "completions", """{"model": "tiny_gpt"}""", 400, "prompt", "prompt is required" },
        { "completions", """{"model": "tiny_gpt", "prompt": "hi", "messages": []}""", 400, "messages", "Unrecognized request argument supplied: messages." },
        { "completions", """{"model": "no_such_model", "prompt": "hi"}""", 404, "model", "no_such_model" },
    };

    [Theory]
    [MemberData(nameof(BadCases))]
    public async Task BadRequest_4xxInOpenAiShapeNamingTheField(string route, string body, int status, string? param, string message)
    {
        var (answered, error) = await PostJsonAsync(fixture.Http, $"/v1/{route}", body);

        Assert.Equal(status, answered);
        var (text, type, code) = Error(error);
        Assert.Contains(message, text, StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", type);
        Assert.Equal(param, error.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(status == 404 ? "model_not_found" : message.StartsWith("The request body is not valid JSON", StringComparison.Ordinal) ? "invalid_json"
            : null, code);
    }

    [Fact]
    public async Task OversizedBody_413InOpenAiShape()
    {
        var body = $$"""{"model": "tiny_gpt", "prompt": "{{new string('a', (int)EdgeFixture.MaxTextBodyBytes)}}"}""";

        var (status, error) = await PostJsonAsync(fixture.Http, "/v1/completions", body);

        Assert.Equal(413, status);
        Assert.Equal(
            ($"The request body is larger than this route's limit of {EdgeFixture.MaxTextBodyBytes} bytes (Cluster:Edge:MaxTextBodyBytes).",
                "invalid_request_error", "request_too_large"), Error(error));
    }

    [Fact]
    public async Task ClientLeavesMidStream_GenerationCancelledAndCacheFreed()
    {
        var replica = fixture.Cluster.Client.Grains!.GetGrain<IModelBatcherGrain>(new ReplicaKey(Model, 1, 0).ToString());
        var before = (await replica.GetGenerationStatisticsAsync())?.Finished.GetValueOrDefault("cancelled") ?? 0;

        // A client that leaves drops the connection; by default the handler would first read on to reuse it.
        using var leaving = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = fixture.Http.BaseAddress };
        using (var response = await PostAsync(leaving, "/v1/chat/completions",
            """{"model": "tiny_gpt", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 1000, "ignore_eos": true, "stream": true}"""))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (var events = 0; events < 3;)
            {
                events += (await reader.ReadLineAsync())!.StartsWith("data: ", StringComparison.Ordinal) ? 1 : 0;
            }
        }

        var statistics = await WaitForIdleAsync(replica, before + 1);

        Assert.Equal((0, 0.0, before + 1), (statistics.Running, statistics.KvCacheUsage, statistics.Finished["cancelled"]));
    }

    private static (int Prompt, int Completion, int Total) Usage(JsonElement body)
    {
        var usage = body.GetProperty("usage");
        return (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    private static (string? Message, string? Type, string? Code) Error(JsonElement body)
    {
        var error = body.GetProperty("error");
        return (error.GetProperty("message").GetString(), error.GetProperty("type").GetString(), error.GetProperty("code").GetString());
    }
}
