using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Microsoft.Extensions.AI;
using static Cluster.Edge.Tests.GenerationStreamTests;

namespace Cluster.Edge.Tests;

/// <summary>tiny_gpt through Microsoft.Extensions.AI's IChatClient (behind a ChatClientBuilder pipeline), over grain calls and over the gRPC edge.</summary>
[Collection(EdgeCollection.Name)]
public sealed class ChatClientTests(EdgeFixture fixture)
{
    public const string OverGrains = "grains";
    public const string OverGrpc = "grpc";

    private static readonly ChatMessage[] Hello = [new(ChatRole.User, Prompt)];

    /// <summary>Greedy, ignoring end-of-sequence so every answer runs to its token limit.</summary>
    private static ChatOptions Greedy(int maxTokens = 12) => new()
    {
        Temperature = 0,
        MaxOutputTokens = maxTokens,
        RawRepresentationFactory = _ => new GenerationRequest { IgnoreEos = true },
    };

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task Streaming_Greedy_ConcatenatedUpdatesEqualTheWholeResponse(string transport)
    {
        var chat = Chat(transport);

        var whole = await chat.GetResponseAsync(Hello, Greedy());
        var updates = await Collect(chat.GetStreamingResponseAsync(Hello, Greedy()));

        Assert.NotEqual("", whole.Text);
        Assert.True(updates.Count > 1, $"expected one update per token piece, got {updates.Count}");
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal((ChatFinishReason?)ChatFinishReason.Length, whole.FinishReason);
        Assert.Equal([ChatFinishReason.Length], updates.Where(u => u.FinishReason is not null).Select(u => u.FinishReason!.Value));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
        Assert.All(updates, u => Assert.Equal((ChatRole?)ChatRole.Assistant, u.Role));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.Equal((Model, Model), (whole.ModelId, updates[0].ModelId));
        var streamedUsage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal((whole.Usage!.InputTokenCount, whole.Usage.OutputTokenCount, whole.Usage.TotalTokenCount),
            (streamedUsage.InputTokenCount, streamedUsage.OutputTokenCount, streamedUsage.TotalTokenCount));

        // Microsoft.Extensions.AI's own coalescing of the updates gives the same response.
        var coalesced = updates.ToChatResponse();
        Assert.Equal((whole.Text, whole.FinishReason, whole.Usage.OutputTokenCount),
            (coalesced.Text, coalesced.FinishReason, coalesced.Usage?.OutputTokenCount));
    }

    [Fact]
    public async Task GetResponse_OverGrpc_SameAnswerAsGrainCalls()
    {
        var overGrains = await Chat(OverGrains).GetResponseAsync(Hello, Greedy());
        var overGrpc = await Chat(OverGrpc).GetResponseAsync(Hello, Greedy());

        Assert.Equal((overGrains.Text, overGrains.Usage!.InputTokenCount, overGrains.Usage.OutputTokenCount),
            (overGrpc.Text, overGrpc.Usage!.InputTokenCount, overGrpc.Usage.OutputTokenCount));
        Assert.NotEqual(overGrains.ResponseId, overGrpc.ResponseId);
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task Usage_CountsTheTokensStreamed(string transport)
    {
        var conversation = new GenerationRequest { Messages = [new ChatTurn("user", Prompt)], MaxTokens = 10, Temperature = 0, IgnoreEos = true };
        var tokens = new List<GeneratedToken>();
        await foreach (var token in fixture.Cluster.Client.GenerateAsync(Model, conversation))
        {
            tokens.Add(token);
        }

        var updates = await Collect(Chat(transport).GetStreamingResponseAsync(Hello, Greedy(maxTokens: 10)));

        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(10, tokens.Count);
        Assert.Equal((tokens[^1].PromptTokens, (long?)tokens.Count, tokens[^1].PromptTokens + tokens.Count),
            (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
        Assert.Equal(tokens.Count(t => t.Text.Length > 0 || t.FinishReason is not null), updates.Count);
        Assert.Equal(string.Concat(tokens.Select(t => t.Text)), string.Concat(updates.Select(u => u.Text)));
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task Roles_RenderedByTheModelsTemplate_SameAsThePromptItWouldRender(string transport)
    {
        ChatMessage[] conversation =
        [
            new(ChatRole.User, "Hello"),
            new(ChatRole.Assistant, "world"),
            new(ChatRole.User, "again"),
        ];
        var options = Greedy();
        options.Instructions = "Be brief.";

        var answer = await Chat(transport).GetResponseAsync(conversation, options);

        // tiny_gpt has no chat template of its own, so the plain layout renders the conversation.
        var prompt = "System: Be brief.\n\nUser: Hello\n\nAssistant: world\n\nUser: again\n\nAssistant:";
        var expected =
            await fixture.Cluster.Client.GenerateTextAsync(Model,
                new GenerationRequest { Prompt = prompt, MaxTokens = 12, Temperature = 0, IgnoreEos = true, Stop = ["\nUser:"] });
        Assert.Equal((expected.Text, (long?)expected.PromptTokens), (answer.Text, answer.Usage!.InputTokenCount));
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task StopSequence_EndsTheAnswerBeforeIt_FinishReasonStop(string transport)
    {
        var chat = Chat(transport);
        var full = (await chat.GetResponseAsync(Hello, Greedy())).Text;
        Assert.True(full.Length >= 6, $"the greedy answer '{full}' is too short to cut");
        var stop = full.Substring(full.Length / 2, 2);
        var options = Greedy();
        options.StopSequences = [stop];

        var whole = await chat.GetResponseAsync(Hello, options);
        var streamed = await Collect(chat.GetStreamingResponseAsync(Hello, options));

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], whole.Text);
        Assert.Equal((ChatFinishReason?)ChatFinishReason.Stop, whole.FinishReason);
        Assert.Equal(whole.Text, string.Concat(streamed.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, streamed[^1].FinishReason);
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task SamplingOptions_Mapped_SeedReproducesAndTopKOneIsGreedy(string transport)
    {
        var chat = Chat(transport);
        ChatOptions Sampled(long seed, int topK) =>
            new() { Temperature = 1.5f, TopP = 1, TopK = topK, Seed = seed, MaxOutputTokens = 12, RawRepresentationFactory = _ =>
                new GenerationRequest { IgnoreEos = true } };

        var first = await chat.GetResponseAsync(Hello, Sampled(seed: 7, topK: 0));
        var again = await chat.GetResponseAsync(Hello, Sampled(seed: 7, topK: 0));
        var streamed = await Collect(chat.GetStreamingResponseAsync(Hello, Sampled(seed: 7, topK: 0)));
        var topOne = await chat.GetResponseAsync(Hello, Sampled(seed: 7, topK: 1));
        var greedy = await chat.GetResponseAsync(Hello, Greedy());

        Assert.Equal(first.Text, again.Text);
        Assert.Equal(first.Text, string.Concat(streamed.Select(u => u.Text)));
        Assert.Equal(greedy.Text, topOne.Text);
        Assert.NotEqual(greedy.Text, first.Text);
        Assert.Equal(12, first.Usage!.OutputTokenCount);
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task UnknownModel_ModelNotFound_AndModelIdOverridesTheDefault(string transport)
    {
        var client = Client(transport);
        var unknown = client.AsIChatClient("no_such_model").AsBuilder().Build();

        await Assert.ThrowsAsync<ModelNotFoundException>(() => unknown.GetResponseAsync(Hello, Greedy()));
        await Assert.ThrowsAsync<ModelNotFoundException>(() => Collect(unknown.GetStreamingResponseAsync(Hello, Greedy())));

        var options = Greedy();
        options.ModelId = Model;
        var answer = await unknown.GetResponseAsync(Hello, options);
        Assert.Equal((Model, ChatFinishReason.Length), (answer.ModelId, answer.FinishReason));
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task BadOption_InvalidInputNamingIt(string transport)
    {
        var options = Greedy();
        options.TopP = 0;

        var whole = await Assert.ThrowsAsync<InvalidInputException>(() => Chat(transport).GetResponseAsync(Hello, options));
        var streamed = await Assert.ThrowsAsync<InvalidInputException>(() => Collect(Chat(transport).GetStreamingResponseAsync(Hello, options)));

        Assert.Equal(("top_p must be above 0 and at most 1, got 0.", whole.Message), (streamed.Message, whole.Message));
    }

    [Fact]
    public async Task Timeout_FromAdditionalProperties_EndsTheGeneration()
    {
        var options = Greedy(maxTokens: 1000);
        options.AdditionalProperties =
            new() { [InferenceClientAIExtensions.TimeoutProperty] = TimeSpan.FromTicks(1), [InferenceClientAIExtensions.PriorityProperty] = 1 };

        await Assert.ThrowsAsync<InferenceTimeoutException>(() => Chat(OverGrains).GetResponseAsync(Hello, options));
    }

    public static TheoryData<string, Func<ChatOptions>, string> RefusedOptions => new()
    {
        { "negative seed", () => new ChatOptions { Seed = -1 }, "ChatOptions.Seed must be 0 or more, got -1. (Parameter 'options')" },
        { "tools", () => new ChatOptions { Tools = [AIFunctionFactory.Create(() => 1, "one")] },
            "ChatOptions.Tools is not supported: the cluster's models do not call tools." },
        { "penalty", () => new ChatOptions { FrequencyPenalty = 0.5f },
            "ChatOptions.FrequencyPenalty is not supported: the cluster's sampler has no penalties." },
        { "json", () => new ChatOptions { ResponseFormat = ChatResponseFormat.Json },
            "ChatOptions.ResponseFormat (JSON) is not supported: the cluster does not constrain output to JSON." },
        { "conversation id", () => new ChatOptions { ConversationId = "c1" },
            "ChatOptions.ConversationId is not supported: the cluster keeps no conversations; send the whole history as messages." },
        { "unknown property", () => new ChatOptions { AdditionalProperties = new() { ["beam_width"] = 4 } },
            "ChatOptions.AdditionalProperties[\"beam_width\"] is not a setting of the cluster; it takes \"priority\" (int) and \"timeout\" (TimeSpan). " +
                "(Parameter 'properties')" },
        { "priority as text", () => new ChatOptions { AdditionalProperties = new() { ["priority"] = "high" } },
            "ChatOptions.AdditionalProperties[\"priority\"] must be a non-negative int, got high (String). (Parameter 'options')" },
        { "raw representation", () => new ChatOptions { RawRepresentationFactory = _ => "text" },
            "ChatOptions.RawRepresentationFactory returned a String; the cluster's chat client takes a GenerationRequest. (Parameter 'options')" },
    };

    [Theory]
    [MemberData(nameof(RefusedOptions))]
    public async Task UnsupportedOption_RefusedNamingIt(string @case, Func<ChatOptions> options, string message)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => Chat(OverGrains).GetResponseAsync(Hello, options()));

        Assert.True(error is ArgumentException or NotSupportedException, $"{@case}: {error.GetType().Name}");
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task NonTextContent_RefusedNamingTheMessageAndContent()
    {
        ChatMessage[] withImage = [new(ChatRole.User, "look"), new(ChatRole.User, [new DataContent(new byte[] { 1, 2 }, "image/png")])];

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Chat(OverGrpc).GetResponseAsync(withImage));

        Assert.Equal("messages[1] holds DataContent; the cluster's chat models take text only (TextContent).", error.Message);
    }

    [Fact]
    public async Task UnknownRole_RefusedNamingIt()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Chat(OverGrains)
            .GetResponseAsync([new ChatMessage(new ChatRole("narrator"), "once upon a time")]));

        Assert.Equal("messages[0] has role 'narrator'; the cluster's chat templates take system, user, assistant, tool. (Parameter 'messages')", error.Message);
    }

    [Fact]
    public void GetService_MetadataAndTheClientUnderneath()
    {
        var overGrains = Chat(OverGrains);
        var overGrpc = Chat(OverGrpc);

        var grainsMetadata = overGrains.GetService<ChatClientMetadata>()!;
        var grpcMetadata = overGrpc.GetService<ChatClientMetadata>()!;

        Assert.Equal((InferenceClientAIExtensions.ProviderName, Model, (Uri?)null),
            (grainsMetadata.ProviderName, grainsMetadata.DefaultModelId, grainsMetadata.ProviderUri));
        Assert.Equal((InferenceClientAIExtensions.ProviderName, Model), (grpcMetadata.ProviderName, grpcMetadata.DefaultModelId));
        Assert.Equal($"dns:///{new Uri(fixture.Cluster.GrpcAddresses[0]).Authority}", grpcMetadata.ProviderUri!.ToString());
        Assert.Same(fixture.Cluster.Client, overGrains.GetService<InferenceClient>());
        Assert.Null(overGrains.GetService<ChatClientMetadata>("keyed"));
    }

    /// <summary>The cluster's chat client behind a plain pipeline, as an application composes one.</summary>
    private IChatClient Chat(string transport) => Client(transport).AsIChatClient(Model).AsBuilder().Build();

    internal InferenceClient Client(string transport) => transport == OverGrpc ? InferenceClient.ForGrpc(fixture.Channel, EdgeFixture.AdminKey)
        : fixture.Cluster.Client;

    private static async Task<List<ChatResponseUpdate>> Collect(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var list = new List<ChatResponseUpdate>();
        await foreach (var update in updates)
        {
            list.Add(update);
        }

        return list;
    }
}
