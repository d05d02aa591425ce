using System.Text.Json;
using Cluster.Contracts.Generation;
using static Cluster.Edge.Tests.GenerationStreamTests;
using static Cluster.Edge.Tests.TextHttp;

namespace Cluster.Edge.Tests;

/// <summary>Triton's generate extension on tiny_gpt: <c>generate</c> (one JSON answer) and <c>generate_stream</c> (server-sent events).</summary>
[Collection(EdgeCollection.Name)]
public sealed class TritonGenerateTests(EdgeFixture fixture)
{
    private static readonly GenerationRequest Greedy = new() { Prompt = Prompt, MaxTokens = 8, Temperature = 0, IgnoreEos = true };

    [Theory]
    [InlineData("""{"text_input": "Hello world", "max_tokens": 8, "temperature": 0, "ignore_eos": true}""")]
    [InlineData("""{"text_input": "Hello world", "parameters": {"max_tokens": 8, "temperature": 0.0, "ignore_eos": true, "stream": false}}""")]
    public async Task Generate_TopLevelOrNestedParameters_SameAnswerAsTheSdk(string body)
    {
        var expected = await fixture.Cluster.Client.GenerateTextAsync(Model, Greedy);

        var (status, answer) = await PostJsonAsync(fixture.Http, $"/v2/models/{Model}/generate", body);

        Assert.Equal(200, status);
        Assert.Equal((Model, "1", expected.Text, "length", 2, 8), Read(answer));
    }

    [Fact]
    public async Task GenerateStream_OneEventPerPieceJoinedToTheWholeText()
    {
        var (_, whole) =
            await PostJsonAsync(fixture.Http, $"/v2/models/{Model}/versions/1/generate",
                """{"text_input": "Hello world", "max_tokens": 8, "temperature": 0, "ignore_eos": true}""");
        using var response =
            await PostAsync(fixture.Http, $"/v2/models/{Model}/versions/1/generate_stream",
                """{"text_input": "Hello world", "max_tokens": 8, "temperature": 0, "ignore_eos": true}""");

        var events = (await EventsAsync(response)).Select(e => Read(JsonDocument.Parse(e).RootElement)).ToList();

        Assert.InRange(events.Count, 2, 8);
        Assert.Equal(whole.GetProperty("text_output").GetString(), string.Concat(events.Select(e => e.Text)));
        Assert.All(events.SkipLast(1), e => Assert.Null(e.Finish));
        Assert.Equal(("length", 8), (events[^1].Finish, events[^1].Completion));
    }

    [Fact]
    public async Task Generate_StopList_TextEndsBeforeIt()
    {
        using var response =
            await PostAsync(fixture.Http, $"/v2/models/{Model}/generate_stream",
                """{"text_input": "Hello world", "max_tokens": 16, "temperature": 0, "ignore_eos": true}""");
        var pieces = (await EventsAsync(response)).Select(e => Read(JsonDocument.Parse(e).RootElement).Text).Where(t => t.Length > 0).ToList();
        var whole = string.Concat(pieces);

        var (_, answer) = await PostJsonAsync(fixture.Http, $"/v2/models/{Model}/generate",
            JsonSerializer.Serialize(
                new { text_input = Prompt, max_tokens = 16, temperature = 0, ignore_eos = true,
                    parameters = new { stop = new[] { "never generated \u0001", pieces[4] } } }));

        Assert.Equal((whole[..whole.IndexOf(pieces[4], StringComparison.Ordinal)], "stop"), (Read(answer).Text, Read(answer).Finish));
    }

    public static TheoryData<string, string, int, string> BadCases => new()
    {
        { Model, """{"text_input": """, 400, "The request body is not valid JSON" },
        { Model, """{"max_tokens": 8}""", 400, "Model 'tiny_gpt': text_input is missing (the prompt, a string)." },
        { Model, """{"text_input": 5}""", 400, "Model 'tiny_gpt': text_input must be a string (the prompt), got Number." },
        { Model, """{"text_input": "hi", "beam_width": 2}""", 400,
            "Model 'tiny_gpt': parameter 'beam_width' is not a generation parameter; the known ones are max_tokens, temperature, top_p, top_k, seed, stop, " +
                "stream, ignore_eos, priority, timeout, resume_tokens, experiment_key." },
        { Model, """{"text_input": "hi", "parameters": {"max_tokens": "8"}}""", 400,
            "Model 'tiny_gpt': parameter 'max_tokens' must be an integer (int64_param or uint64_param), got string_param." },
        { Model, """{"text_input": "hi", "parameters": {"stop": [1]}}""", 400,
            "Model 'tiny_gpt': parameter 'stop' must be a number, a string, a boolean or a list of strings, got Array." },
        { Model, """{"text_input": "hi", "parameters": 3}""", 400, "Model 'tiny_gpt': parameters must be an object, got Number." },
        { Model, """{"text_input": "hi", "top_p": 1.5}""", 400, "top_p must be above 0 and at most 1, got 1.5." },
        { Model, """{"text_input": ""}""", 400, "text_input is empty: a prompt needs at least one character." },
        { "tiny_classifier", """{"text_input": "hi"}""", 400, "Model 'tiny_classifier' version 1 does not generate text; call /infer with its inputs." },
        { "no_such_model", """{"text_input": "hi"}""", 404, "no_such_model" },
    };

    [Theory]
    [MemberData(nameof(BadCases))]
    public async Task BadRequest_4xxWithTheErrorNamingTheField(string model, string body, int status, string message)
    {
        foreach (var route in new[] { "generate", "generate_stream" })
        {
            var (answered, error) = await PostJsonAsync(fixture.Http, $"/v2/models/{model}/{route}", body);

            Assert.Equal(status, answered);
            Assert.Contains(message, error.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoKey_401()
    {
        var (status, error) = await PostJsonAsync(fixture.Http, $"/v2/models/{Model}/generate", """{"text_input": "hi"}""", key: null);

        Assert.Equal((401, "An API key is required: send 'authorization: Bearer <key>'."), (status, error.GetProperty("error").GetString()));
    }

    private static (string? Model, string? Version, string Text, string? Finish, int Prompt, int Completion) Read(JsonElement answer) =>
        (answer.GetProperty("model_name").GetString(), answer.GetProperty("model_version").GetString(), answer.GetProperty("text_output").GetString()!,
         answer.TryGetProperty("finish_reason", out var finish) ? finish.GetString() : null, answer.GetProperty("prompt_tokens").GetInt32(),
             answer.GetProperty("completion_tokens").GetInt32());
}
