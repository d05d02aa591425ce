using System.ClientModel;
using Cluster.Contracts.Generation;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using static Cluster.Edge.Tests.GenerationStreamTests;
using AiChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace Cluster.Edge.Tests;

/// <summary>The official OpenAI library, and Microsoft.Extensions.AI's IChatClient over it, against the silo's <c>/v1</c> routes on tiny_gpt.</summary>
[Collection(EdgeCollection.Name)]
public sealed class OpenAiSdkTests(EdgeFixture fixture)
{
    private static readonly ChatMessage[] Conversation = [new SystemChatMessage("You are terse."), new UserChatMessage(Prompt)];

    /// <summary>The same conversation as the cluster's own contract takes it.</summary>
    private static readonly ChatTurn[] Turns = [new("system", "You are terse."), new("user", Prompt)];

    [Fact]
    public async Task CompleteChat_Greedy_SameTextAndUsageAsTheSdk()
    {
        var expected = await fixture.Cluster.Client.GenerateTextAsync(Model, new GenerationRequest { Messages = Turns, MaxTokens = 8, Temperature = 0 });

        ChatCompletion completion = await Chat().CompleteChatAsync(Conversation, Greedy(8));

        Assert.Equal(expected.Text, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(expected.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal((expected.PromptTokens, expected.GeneratedTokens, expected.PromptTokens + expected.GeneratedTokens),
            (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
        Assert.Equal(Model, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChatStreaming_Greedy_PiecesJoinToTheWholeTextAndUsageCountsThem()
    {
        ChatCompletion whole = await Chat().CompleteChatAsync(Conversation, Greedy(12));
        var pieces = new List<string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;

        await foreach (var update in Chat().CompleteChatStreamingAsync(Conversation, Greedy(12)))
        {
            pieces.AddRange(update.ContentUpdate.Select(p => p.Text));
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(whole.Content[0].Text, string.Concat(pieces));
        Assert.True(pieces.Count(p => p.Length > 0) > 1, $"expected several pieces, got {pieces.Count}");
        Assert.Equal(whole.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal((whole.Usage.InputTokenCount, whole.Usage.OutputTokenCount), (usage.InputTokenCount, usage.OutputTokenCount));
        Assert.True(usage.OutputTokenCount >= pieces.Count(p => p.Length > 0), $"{usage.OutputTokenCount} tokens for {pieces.Count} pieces");
    }

    [Fact]
    public async Task CompleteChat_StopString_TextEndsBeforeItWithFinishStop()
    {
        var pieces = new List<string>();
        await foreach (var update in Chat().CompleteChatStreamingAsync(Conversation, Greedy(16)))
        {
            pieces.AddRange(update.ContentUpdate.Select(p => p.Text).Where(t => t.Length > 0));
        }

        var whole = string.Concat(pieces);
        var stop = pieces[4];
        var options = Greedy(16);
        options.StopSequences.Add("never generated \u0001");
        options.StopSequences.Add(stop);

        ChatCompletion completion = await Chat().CompleteChatAsync(Conversation, options);

        Assert.Equal(whole[..whole.IndexOf(stop, StringComparison.Ordinal)], completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_404()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat("no_such_model").CompleteChatAsync(Conversation, Greedy(4)));

        Assert.Equal(404, error.Status);
        Assert.Contains("no_such_model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_NegativeTemperature_400NamingIt()
    {
        var options = Greedy(4);
        options.Temperature = -1;

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync(Conversation, options));

        Assert.Equal(400, error.Status);
        Assert.Contains("temperature must be 0 (greedy) or more, got -1.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_WrongKey_401_RightKeyAnswers()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat(key: "wrong-key").CompleteChatAsync(Conversation, Greedy(4)));
        ChatCompletion answered = await Chat(key: EdgeFixture.AdminKey).CompleteChatAsync(Conversation, Greedy(4));

        Assert.Equal(401, error.Status);
        Assert.Contains("The API key is not valid.", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, answered.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task ChatClient_GetResponse_SameTextAsTheOpenAiLibrary()
    {
        ChatCompletion expected = await Chat().CompleteChatAsync(Conversation, Greedy(8));
        IChatClient client = Chat().AsIChatClient();

        var response = await client.GetResponseAsync(AiConversation(), new ChatOptions { MaxOutputTokens = 8, Temperature = 0 });

        Assert.Equal(expected.Content[0].Text, response.Text);
        Assert.Equal(expected.FinishReason == ChatFinishReason.Length ? AiChatFinishReason.Length : AiChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(expected.Usage.OutputTokenCount, response.Usage?.OutputTokenCount);
    }

    [Fact]
    public async Task ChatClient_GetStreamingResponse_UpdatesJoinToTheWholeText()
    {
        IChatClient client = Chat().AsIChatClient();
        var options = new ChatOptions { MaxOutputTokens = 12, Temperature = 0 };
        var whole = await client.GetResponseAsync(AiConversation(), options);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(AiConversation(), options))
        {
            updates.Add(update);
        }

        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, $"expected several text updates, got {updates.Count}");
        Assert.Equal(whole.FinishReason, updates.Select(u => u.FinishReason).Where(r => r is not null).Distinct().Single());
        Assert.Equal(whole.Usage?.OutputTokenCount, updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single().Details.OutputTokenCount);
    }

    private ChatClient Chat(string model = Model, string key = EdgeFixture.InferKey) =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri($"{fixture.Cluster.HttpAddresses[0].TrimEnd('/')}/v1") });

    private static ChatCompletionOptions Greedy(int maxTokens) => new() { MaxOutputTokenCount = maxTokens, Temperature = 0 };

    private static List<Microsoft.Extensions.AI.ChatMessage> AiConversation() =>
        [new(ChatRole.System, "You are terse."), new(ChatRole.User, Prompt)];
}
