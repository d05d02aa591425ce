using System.Runtime.CompilerServices;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;

namespace Cluster.Grains.Tests.Client;

/// <summary>How the SDK resumes a generation whose replica went away, against a transport that scripts each attempt.</summary>
public sealed class GenerationResumeTests
{
    [Fact]
    public async Task ReplicaLostAfterTheFinalToken_EndsTheStream_WithoutAResume()
    {
        var transport = new ScriptedTransport([Attempt(tokens: 3, finish: "length", thenLost: true)]);
        var client = new InferenceClient(transport, null);

        var tokens = await Collect(client, new GenerationRequest { Prompt = "x", MaxTokens = 3 });

        Assert.Equal([0, 1, 2], tokens.Select(t => t.TokenId));
        Assert.Equal("length", tokens[^1].FinishReason);
        Assert.Single(transport.Requests);
    }

    [Fact]
    public async Task ReplicaLostMidStream_ResumesWithTheDeliveredTokens_AndTheCallerSeesEachTokenOnce()
    {
        var transport = new ScriptedTransport([Attempt(tokens: 2, finish: null, thenLost: true), Attempt(tokens: 1, finish: "length", first: 2)]);
        var client = new InferenceClient(transport, null);

        var tokens = await Collect(client, new GenerationRequest { Prompt = "x", MaxTokens = 3 });

        Assert.Equal([0, 1, 2], tokens.Select(t => t.TokenId));
        Assert.Equal(2, transport.Requests.Count);
        Assert.Empty(transport.Requests[0].ResumeTokens);
        Assert.Equal([0, 1], transport.Requests[1].ResumeTokens);
        Assert.Equal(transport.Requests[0].Seed, transport.Requests[1].Seed);
    }

    private static async Task<List<GeneratedToken>> Collect(InferenceClient client, GenerationRequest request)
    {
        var tokens = new List<GeneratedToken>();
        await foreach (var token in client.GenerateAsync(ScriptedTransport.Model, request))
        {
            tokens.Add(token);
        }

        return tokens;
    }

    /// <summary>One replica's stream: <paramref name="tokens"/> ids from <paramref name="first"/>, the last with <paramref name="finish"/>.</summary>
    private static (GeneratedToken[] Tokens, bool ThenLost) Attempt(int tokens, string? finish, bool thenLost = false, int first = 0) =>
        ([.. Enumerable.Range(first, tokens).Select(id => new GeneratedToken
        {
            TokenId = id,
            Text = $"t{id}",
            GeneratedTokens = id + 1,
            FinishReason = id == first + tokens - 1 ? finish : null,
        })], thenLost);

    private sealed class ScriptedTransport((GeneratedToken[] Tokens, bool ThenLost)[] attempts) : IInferenceTransport
    {
        public const string Model = "generator";

        public List<GenerationRequest> Requests { get; } = [];

        public async IAsyncEnumerable<GeneratedToken> GenerateAsync(
            ModelTarget target, GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var (tokens, thenLost) = attempts[Requests.Count];
            Requests.Add(request);
            foreach (var token in tokens)
            {
                await Task.Yield();
                yield return token;
            }

            if (thenLost)
            {
                throw new ReplicaLostException("the replica's silo stopped");
            }
        }

        public Task<ModelTarget> ResolveAsync(string model, long? version) => Task.FromResult(new ModelTarget
        {
            Model = model,
            Config = new ModelConfig(),
            Version = new ModelVersionDescriptor { Version = 1, Inputs = [], Outputs = [], Generates = true },
        });

        public ValueTask<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<ModelDescriptor[]> GetModelsAsync() => throw new NotSupportedException();

        public Task<ModelStatistics> GetStatisticsAsync(ModelTarget target) => throw new NotSupportedException();

        public Task<bool> IsReadyAsync(ModelTarget target) => throw new NotSupportedException();

        public Task SendFeedbackAsync(string model, string requestId, bool accepted) => throw new NotSupportedException();
    }
}
