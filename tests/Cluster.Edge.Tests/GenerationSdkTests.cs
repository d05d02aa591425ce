using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using static Cluster.Edge.Tests.GenerationStreamTests;

namespace Cluster.Edge.Tests;

/// <summary>InferenceClient.GenerateAsync over the gRPC edge matches grain calls; leaving or cancelling a generation frees its cache.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GenerationSdkTests(EdgeFixture fixture)
{
    private static readonly GenerationRequest Greedy = new() { Prompt = Prompt, MaxTokens = 12, Temperature = 0, IgnoreEos = true, Id = "sdk" };

    private InferenceClient Grpc => InferenceClient.ForGrpc(fixture.Channel, EdgeFixture.AdminKey);

    [Fact]
    public async Task GenerateAsync_OverGrpc_SameTokensAsGrainCalls()
    {
        var overGrains = await Collect(fixture.Cluster.Client.GenerateAsync(Model, Greedy));
        var overGrpc = await Collect(Grpc.GenerateAsync(Model, Greedy));

        // The edge sends no response for a piece without text, except the last.
        Assert.Equal(overGrains.Where(t => t.Text.Length > 0 || t.FinishReason is not null), overGrpc);
        Assert.Equal(
            new GeneratedToken { TokenId = overGrpc[^1].TokenId, Text = overGrpc[^1].Text, FinishReason = "length", PromptTokens = 2, GeneratedTokens = 12 },
                overGrpc[^1]);
    }

    [Fact]
    public async Task GenerateTextAsync_OverGrpc_SameResultAsGrainCalls()
    {
        var request = Greedy with { Stop = ["zz", "[x]"] };

        var overGrpc = await Grpc.GenerateTextAsync(Model, request);

        Assert.Equal(await fixture.Cluster.Client.GenerateTextAsync(Model, request), overGrpc);
    }

    [Fact]
    public async Task GenerateAsync_OverGrpcBadSetting_InvalidInputNamingField()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Grpc.GenerateTextAsync(Model, Greedy with { TopP = 0 }));

        Assert.Equal("top_p must be above 0 and at most 1, got 0.", error.Message);
    }

    [Fact]
    public async Task GenerateAsync_OverGrpcNotAGenerationModel_InvalidInput()
    {
        var error = await Assert.ThrowsAsync<InvalidInputException>(() => Grpc.GenerateTextAsync("tiny_classifier", Greedy));

        Assert.Equal("Model 'tiny_classifier' version 1 does not generate text; call InferAsync with its inputs.", error.Message);
    }

    [Fact]
    public async Task GenerateAsync_OverGrpcCallerStopsEnumerating_CacheFreed()
    {
        var replica = Replica();
        var before = await CancelledCount(replica);
        var received = 0;

        await foreach (var token in Grpc.GenerateAsync(Model, Greedy with { MaxTokens = 1000 }))
        {
            if (++received == 2)
            {
                break;
            }
        }

        var statistics = await WaitForIdleAsync(replica, before + 1);
        Assert.Equal((0, 0.0, before + 1), (statistics.Running, statistics.KvCacheUsage, statistics.Finished["cancelled"]));
    }

    [Fact]
    public async Task GenerateAsync_OverGrpcCancelled_ThrowsAndCacheFreed()
    {
        var replica = Replica();
        var before = await CancelledCount(replica);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadTwoThenCancel(Grpc, cancel));

        var statistics = await WaitForIdleAsync(replica, before + 1);
        Assert.Equal((0, 0.0, before + 1), (statistics.Running, statistics.KvCacheUsage, statistics.Finished["cancelled"]));
    }

    [Fact]
    public async Task GenerateAsync_GrainCallsCancelled_ThrowsAndCacheFreed()
    {
        var replica = Replica();
        var before = await CancelledCount(replica);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadTwoThenCancel(fixture.Cluster.Client, cancel));

        var statistics = await WaitForIdleAsync(replica, before + 1);
        Assert.Equal((0, 0.0, before + 1), (statistics.Running, statistics.KvCacheUsage, statistics.Finished["cancelled"]));
    }

    private Contracts.Grains.IModelBatcherGrain Replica() => new GenerationStreamTests(fixture).Replica();

    private static async Task<long> CancelledCount(Contracts.Grains.IModelBatcherGrain replica) =>
        (await replica.GetGenerationStatisticsAsync())?.Finished.GetValueOrDefault("cancelled") ?? 0;

    private static async Task ReadTwoThenCancel(InferenceClient client, CancellationTokenSource cancel)
    {
        var received = 0;
        await foreach (var token in client.GenerateAsync(Model, Greedy with { MaxTokens = 1000 }, cancellationToken: cancel.Token))
        {
            if (++received == 2)
            {
                await cancel.CancelAsync();
            }

            Assert.True(received < 1000, "the generation ran to its end despite the cancellation");
        }
    }

    private static async Task<List<GeneratedToken>> Collect(IAsyncEnumerable<GeneratedToken> tokens)
    {
        var list = new List<GeneratedToken>();
        await foreach (var token in tokens)
        {
            list.Add(token);
        }

        return list;
    }
}
