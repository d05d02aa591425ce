using System.Text;
using Cluster.Client.Protocol;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Grains;
using Google.Protobuf;
using Grpc.Core;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>tiny_gpt over the gRPC edge: decoupled ModelStreamInfer (one response per token), unary ModelInfer, and bad requests.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GenerationStreamTests(EdgeFixture fixture)
{
    public const string Model = "tiny_gpt";

    /// <summary>"Hello world" is two GPT-2 tokens.</summary>
    public const string Prompt = "Hello world";

    [Fact]
    public async Task ModelStreamInfer_TinyGpt_TokensThenFinalWithLength()
    {
        var responses = await StreamAsync(Generation("gen-1", Prompt, maxTokens: 8));

        Assert.True(responses.Count > 1, $"expected several responses, got {responses.Count}");
        Assert.True(responses.Count <= 8, $"expected at most one response per token, got {responses.Count}");
        Assert.All(responses, r =>
            Assert.Equal(("", "gen-1", Model, "1"), (r.ErrorMessage, r.InferResponse.Id, r.InferResponse.ModelName, r.InferResponse.ModelVersion)));
        Assert.All(responses.SkipLast(1), r => Assert.False(IsFinal(r.InferResponse)));
        var last = responses[^1].InferResponse;
        Assert.True(IsFinal(last));
        Assert.Equal("length", last.Parameters["finish_reason"].StringParam);
        Assert.Equal(8L, last.Parameters["completion_tokens"].Int64Param);
        Assert.Equal(2L, last.Parameters["prompt_tokens"].Int64Param);
        Assert.All(responses.SkipLast(1), r => Assert.NotEqual("", Text(r.InferResponse)));
        Assert.All(responses, r =>
            Assert.Equal(["text_output", "BYTES", "1"],
                [r.InferResponse.Outputs[0].Name, r.InferResponse.Outputs[0].Datatype, string.Join(",", r.InferResponse.Outputs[0].Shape)]));
    }

    [Fact]
    public async Task ModelInfer_TinyGptGreedy_TextEqualsConcatenatedStream()
    {
        var streamed = await StreamAsync(Generation("gen-2", Prompt, maxTokens: 8));
        var unary = await fixture.Grpc.ModelInferAsync(Generation("gen-2u", Prompt, maxTokens: 8), Key());

        Assert.Equal(string.Concat(streamed.Select(r => Text(r.InferResponse))), Text(unary));
        Assert.Equal("gen-2u", unary.Id);
        Assert.Equal("length", unary.Parameters["finish_reason"].StringParam);
        Assert.Equal(8L, unary.Parameters["completion_tokens"].Int64Param);
        Assert.False(IsFinal(unary));
    }

    [Fact]
    public async Task ModelInfer_ResumeTokens_ContinuesAfterThemWithTheUndisturbedText()
    {
        var whole = await fixture.Grpc.ModelInferAsync(Generation("gen-whole", Prompt, maxTokens: 8), Key());
        var streamed = await StreamAsync(Generation("gen-ids", Prompt, maxTokens: 8));
        var first = streamed[0].InferResponse;
        var resume = Generation("gen-resumed", Prompt, maxTokens: 8);
        resume.Parameters["resume_tokens"] = new InferParameter { StringParam = $"[{first.Parameters["token_id"].Int64Param}]" };

        var resumed = await fixture.Grpc.ModelInferAsync(resume, Key());

        Assert.Equal(1L, first.Parameters["completion_tokens"].Int64Param);
        Assert.Equal(Text(whole), Text(first) + Text(resumed));
        Assert.Equal(8L, resumed.Parameters["completion_tokens"].Int64Param);
    }

    [Fact]
    public async Task ModelStreamInfer_StreamFalse_OneFinalResponseWithWholeText()
    {
        var streamed = await StreamAsync(Generation("gen-3", Prompt, maxTokens: 8));
        var whole = Generation("gen-3w", Prompt, maxTokens: 8);
        whole.Parameters["stream"] = new InferParameter { BoolParam = false };

        var responses = await StreamAsync(whole);

        var only = Assert.Single(responses).InferResponse;
        Assert.True(IsFinal(only));
        Assert.Equal(string.Concat(streamed.Select(r => Text(r.InferResponse))), Text(only));
        Assert.Equal("length", only.Parameters["finish_reason"].StringParam);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ModelInfer_StopString_TextEndsBeforeIt(bool asJsonArray)
    {
        var pieces = (await StreamAsync(Generation("gen-5", Prompt, maxTokens: 16))).Select(r => Text(r.InferResponse)).ToList();
        var whole = string.Concat(pieces);
        var stop = pieces[4];
        var request = Generation("gen-5s", Prompt, maxTokens: 16);
        request.Parameters["stop"] =
            new InferParameter { StringParam = asJsonArray ? System.Text.Json.JsonSerializer.Serialize(new[] { "never generated \u0001", stop }) : stop };

        var answer = await fixture.Grpc.ModelInferAsync(request, Key());

        Assert.Equal(whole[..whole.IndexOf(stop, StringComparison.Ordinal)], Text(answer));
        Assert.Equal("stop", answer.Parameters["finish_reason"].StringParam);
    }

    [Fact]
    public async Task ModelInfer_RawPrompt_AnsweredRawWithSameText()
    {
        var typed = await fixture.Grpc.ModelInferAsync(Generation("gen-4", Prompt, maxTokens: 6), Key());
        var raw = Generation("gen-4r", Prompt, maxTokens: 6);
        raw.Inputs[0].Contents = null;
        var bytes = Encoding.UTF8.GetBytes(Prompt);
        raw.RawInputContents.Add(ByteString.CopyFrom([.. BitConverter.GetBytes(bytes.Length), .. bytes]));
        raw.Inputs[0].Shape.Clear();
        raw.Inputs[0].Shape.Add([1, 1]);

        var answer = await fixture.Grpc.ModelInferAsync(raw, Key());

        Assert.Single(answer.RawOutputContents);
        Assert.Equal(Text(typed), Text(answer));
    }

    [Fact]
    public async Task ModelStreamInfer_TwoGenerationsOnOneStream_InterleavedAndTaggedById()
    {
        var expectedA = Text(await fixture.Grpc.ModelInferAsync(Generation("a", Prompt, maxTokens: 64), Key()));
        var expectedB = Text(await fixture.Grpc.ModelInferAsync(Generation("b", "The quick brown fox", maxTokens: 64), Key()));

        var responses = await StreamAsync(Generation("a", Prompt, maxTokens: 64), Generation("b", "The quick brown fox", maxTokens: 64));

        var a = responses.Where(r => r.InferResponse.Id == "a").ToList();
        var b = responses.Where(r => r.InferResponse.Id == "b").ToList();
        Assert.Equal(responses.Count, a.Count + b.Count);
        Assert.Equal(expectedA, string.Concat(a.Select(r => Text(r.InferResponse))));
        Assert.Equal(expectedB, string.Concat(b.Select(r => Text(r.InferResponse))));
        Assert.True(IsFinal(a[^1].InferResponse) && IsFinal(b[^1].InferResponse));

        // Both ran at once: the one that finished second had started answering before the other finished.
        var finals = new[] { responses.IndexOf(a[^1]), responses.IndexOf(b[^1]) };
        var secondStarted = finals[0] < finals[1] ? responses.IndexOf(b[0]) : responses.IndexOf(a[0]);
        Assert.True(secondStarted < finals.Min(), $"the second generation's first response came at {secondStarted}, after the first's final at {finals.Min()}");
    }

    [Fact]
    public async Task ModelStreamInfer_ClientCancelsMidStream_SequenceAndCacheFreed()
    {
        var replica = Replica();
        var before = (await replica.GetGenerationStatisticsAsync())?.Finished.GetValueOrDefault("cancelled") ?? 0;
        using var cancel = new CancellationTokenSource();
        using var call = fixture.Grpc.ModelStreamInfer(Key(), cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(Generation("long", Prompt, maxTokens: 1000));
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.False(IsFinal(call.ResponseStream.Current.InferResponse));

        await cancel.CancelAsync();

        var statistics = await WaitForIdleAsync(replica, before + 1);
        Assert.Equal((0, 0.0, before + 1), (statistics.Running, statistics.KvCacheUsage, statistics.Finished["cancelled"]));
    }

    [Fact]
    public async Task ModelStreamInfer_BadRequestThenGood_ErrorMessageAndStreamGoesOn()
    {
        var bad = Generation("bad", Prompt, maxTokens: 8);
        bad.Parameters["max_tokens"] = new InferParameter { StringParam = "8" };

        var responses = await StreamAsync(bad, Generation("good", Prompt, maxTokens: 4));

        var error = Assert.Single(responses, r => r.InferResponse.Id == "bad");
        Assert.Equal("InvalidArgument: Model 'tiny_gpt': parameter 'max_tokens' must be an integer (int64_param or uint64_param), got string_param.",
            error.ErrorMessage);
        var good = responses.Where(r => r.InferResponse.Id == "good").ToList();
        Assert.Equal(4L, good[^1].InferResponse.Parameters["completion_tokens"].Int64Param);
        Assert.True(IsFinal(good[^1].InferResponse));
    }

    public static TheoryData<string, string> BadCases => new()
    {
        { "missing text_input",
            "Input 'text_input' of model 'tiny_gpt' version 1 is missing (expected text_input BYTES [1], the prompt, or messages BYTES [1], the conversation " +
                "as a JSON array of {\"role\", \"content\"} objects)." },
        { "fp32 text_input", "Input 'text_input' of model 'tiny_gpt' version 1 has datatype FP32; expected BYTES." },
        { "two prompts", "Input 'text_input' of model 'tiny_gpt' version 1 has shape [2]; expected [1] or [1,1] (one prompt)." },
        { "other input",
            "Input 'input_ids' is not an input of model 'tiny_gpt' version 1; it takes text_input BYTES [1], the prompt, or messages BYTES [1], the " +
                "conversation as a JSON array of {\"role\", \"content\"} objects." },
        { "unknown parameter",
            "Model 'tiny_gpt': parameter 'beam_width' is not a generation parameter; the known ones are max_tokens, temperature, top_p, top_k, seed, stop, " +
                "stream, ignore_eos, priority, timeout, resume_tokens, experiment_key." },
        { "max_tokens as string", "Model 'tiny_gpt': parameter 'max_tokens' must be an integer (int64_param or uint64_param), got string_param." },
        { "temperature as bool", "Model 'tiny_gpt': parameter 'temperature' must be a number (double_param, int64_param or uint64_param), got bool_param." },
        { "stream as int", "Model 'tiny_gpt': parameter 'stream' must be a bool (bool_param), got int64_param." },
        { "empty prompt", "text_input is empty: a prompt needs at least one character." },
        { "prompt past context", "text_input encodes to 1100 tokens; the model's context holds 1024, so it must encode to fewer than 1024." },
        { "one word past any context",
            "text_input is 131073 bytes of UTF-8; no token of the model's tokenizer stands for more than 128, so it cannot fit the context of 1024 tokens." },
        { "max_tokens zero", "max_tokens must be between 1 and 1022 (the context of 1024 tokens minus the prompt's 2); it was 0." },
        { "max_tokens past context", "max_tokens must be between 1 and 1022 (the context of 1024 tokens minus the prompt's 2); it was 5000." },
        { "negative temperature", "temperature must be 0 (greedy) or more, got -1." },
        { "top_p above one", "top_p must be above 0 and at most 1, got 1.5." },
        { "resume_tokens not ids",
            "Model 'tiny_gpt': parameter 'resume_tokens' must be a string (string_param) holding a JSON array of token ids, got '[1, \"a\"]'." },
        { "resume_tokens as int",
            "Model 'tiny_gpt': parameter 'resume_tokens' must be a string (string_param) holding a JSON array of token ids, got int64_param." },
        { "resume_tokens past max_tokens", "resume_tokens holds 8 tokens but max_tokens is 8: at most 7 tokens can be resumed, leaving one to generate." },
        { "resume_tokens outside vocabulary", "resume_tokens[0] is token id 99999999, outside the model's vocabulary of 50257." },
    };

    [Theory]
    [MemberData(nameof(BadCases))]
    public async Task ModelInfer_BadGeneration_InvalidArgumentNamingField(string @case, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(Bad(@case), Key()).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, message), (error.StatusCode, error.Status.Detail));
    }

    /// <summary>A greedy request for <paramref name="maxTokens"/> tokens that ignores end-of-sequence, so it always ends on length.</summary>
    internal static ModelInferRequest Generation(string id, string prompt, int maxTokens)
    {
        var request = new ModelInferRequest { ModelName = Model, Id = id };
        request.Inputs.Add(Input("text_input", "BYTES", [1], c => c.BytesContents.Add(ByteString.CopyFromUtf8(prompt))));
        request.Parameters["max_tokens"] = new InferParameter { Int64Param = maxTokens };
        request.Parameters["temperature"] = new InferParameter { DoubleParam = 0 };
        request.Parameters["ignore_eos"] = new InferParameter { BoolParam = true };
        return request;
    }

    internal static string Text(ModelInferResponse response) =>
        response.RawOutputContents.Count > 0
            ? Encoding.UTF8.GetString(response.RawOutputContents[0].Span[4..])
            : response.Outputs[0].Contents.BytesContents[0].ToStringUtf8();

    internal static bool IsFinal(ModelInferResponse response) =>
        response.Parameters.TryGetValue("triton_final_response", out var final) && final.BoolParam;

    /// <summary>Polls the replica's engine counters until no sequence runs, no cache is held and <paramref name="cancelled"/> sequences ended
    /// cancelled.</summary>
    internal static async Task<GenerationReplicaStatistics> WaitForIdleAsync(IModelBatcherGrain replica, long cancelled)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (true)
        {
            var statistics = (await replica.GetGenerationStatisticsAsync())!;
            if ((statistics.Running == 0 && statistics.KvCacheUsage == 0 && statistics.Finished.GetValueOrDefault("cancelled") >= cancelled)
                || DateTime.UtcNow > deadline)
            {
                return statistics;
            }

            await Task.Delay(20);
        }
    }

    internal IModelBatcherGrain Replica() =>
        fixture.Cluster.Client.Grains!.GetGrain<IModelBatcherGrain>(new ReplicaKey(Model, 1, 0).ToString());

    private async Task<List<ModelStreamInferResponse>> StreamAsync(params ModelInferRequest[] requests)
    {
        using var call = fixture.Grpc.ModelStreamInfer(Key());
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request);
        }

        await call.RequestStream.CompleteAsync();
        var responses = new List<ModelStreamInferResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            responses.Add(response);
        }

        return responses;
    }

    private static ModelInferRequest Bad(string @case)
    {
        var request = Generation(@case, Prompt, maxTokens: 8);
        var parameters = request.Parameters;
        switch (@case)
        {
            case "missing text_input": request.Inputs.Clear(); break;
            case "fp32 text_input":
                request.Inputs[0] = Input("text_input", "FP32", [1], c => c.Fp32Contents.Add(1f));
                break;
            case "two prompts":
                request.Inputs[0] = Input("text_input", "BYTES", [2], c => c.BytesContents.Add([ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("b")]));
                break;
            case "other input":
                request.Inputs.Add(Input("input_ids", "INT64", [1, 1], c => c.Int64Contents.Add(1L)));
                break;
            case "unknown parameter": parameters["beam_width"] = new InferParameter { Int64Param = 4 }; break;
            case "max_tokens as string": parameters["max_tokens"] = new InferParameter { StringParam = "8" }; break;
            case "temperature as bool": parameters["temperature"] = new InferParameter { BoolParam = true }; break;
            case "stream as int": parameters["stream"] = new InferParameter { Int64Param = 1 }; break;
            case "empty prompt":
                request.Inputs[0] = Input("text_input", "BYTES", [1], c => c.BytesContents.Add(ByteString.Empty));
                break;
            case "prompt past context":
                request.Inputs[0] =
                    Input("text_input", "BYTES", [1], c => c.BytesContents.Add(ByteString.CopyFromUtf8(string.Concat(Enumerable.Repeat(" a", 1100)))));
                break;
            case "one word past any context":
                // Unrefused, encoding this one 128 KiB word would take the tokenizer tens of seconds.
                request.Inputs[0] = Input("text_input", "BYTES", [1], c => c.BytesContents.Add(ByteString.CopyFromUtf8(new string('a', (1024 * 128) + 1))));
                break;
            case "max_tokens zero": parameters["max_tokens"] = new InferParameter { Int64Param = 0 }; break;
            case "max_tokens past context": parameters["max_tokens"] = new InferParameter { Int64Param = 5000 }; break;
            case "negative temperature": parameters["temperature"] = new InferParameter { DoubleParam = -1 }; break;
            case "top_p above one": parameters["top_p"] = new InferParameter { DoubleParam = 1.5 }; break;
            case "resume_tokens not ids": parameters["resume_tokens"] = new InferParameter { StringParam = "[1, \"a\"]" }; break;
            case "resume_tokens as int": parameters["resume_tokens"] = new InferParameter { Int64Param = 1 }; break;
            case "resume_tokens past max_tokens": parameters["resume_tokens"] = new InferParameter { StringParam = "[262,262,262,262,262,262,262,262]" }; break;
            case "resume_tokens outside vocabulary": parameters["resume_tokens"] = new InferParameter { StringParam = "[99999999]" }; break;
            default: throw new ArgumentOutOfRangeException(nameof(@case), @case, "unknown case");
        }

        return request;
    }
}
