using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Inference.Tests.Text;
using Microsoft.Extensions.AI;
using static Cluster.Edge.Tests.ChatClientTests;

namespace Cluster.Edge.Tests;

/// <summary>The bundled all-MiniLM-L6-v2 pipeline through Microsoft.Extensions.AI's IEmbeddingGenerator, over grain calls and over the gRPC edge.</summary>
[Collection(EdgeCollection.Name)]
public sealed class EmbeddingGeneratorTests(EdgeFixture fixture)
{
    private static readonly string[] Texts =
    [
        "A man is eating food.",
        "Someone is having a meal.",
        "The stock market fell sharply today.",
    ];

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task GenerateAsync_EqualsTheSdksEmbeddingsInOrder(string transport)
    {
        var client = new ChatClientTests(fixture).Client(transport);
        var generator = new EmbeddingGeneratorBuilder<string, Embedding<float>>(client.AsIEmbeddingGenerator()).Build();
        var texts = Enumerable.Range(0, 40).Select(i => $"{Texts[i % Texts.Length]} ({i})").ToArray();

        var embeddings = await generator.GenerateAsync(texts);
        var expected = await client.EmbedAsync(texts);

        Assert.Equal(texts.Length, embeddings.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal((384, TextEmbeddings.DefaultModel), (embeddings[i].Dimensions, embeddings[i].ModelId));
            ReferenceEmbeddings.AssertClose(expected[i], embeddings[i].Vector.ToArray(), tolerance: 1e-5);
        }

        Assert.Null(embeddings.Usage);
        Assert.True(TextEmbeddings.CosineSimilarity(embeddings[0].Vector.Span,
            embeddings[1].Vector.Span) > TextEmbeddings.CosineSimilarity(embeddings[0].Vector.Span, embeddings[2].Vector.Span),
            "food and meal are closer than food and the stock market");
    }

    [Theory]
    [InlineData(OverGrains)]
    [InlineData(OverGrpc)]
    public async Task UnknownModel_ModelNotFound(string transport)
    {
        var generator = new ChatClientTests(fixture).Client(transport).AsIEmbeddingGenerator("no_such_embedder");

        await Assert.ThrowsAsync<ModelNotFoundException>(() => generator.GenerateAsync(Texts));
        var overridden = await generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { ModelId = TextEmbeddings.DefaultModel });
        Assert.Equal(Texts.Length, overridden.Count);
    }

    [Fact]
    public async Task Dimensions_OtherThanTheModels_Refused()
    {
        var generator = fixture.Cluster.Client.AsIEmbeddingGenerator();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { Dimensions = 128 }));

        Assert.Equal($"EmbeddingGenerationOptions.Dimensions asks for 128; model '{TextEmbeddings.DefaultModel}' gives 384 dimensions and does not shorten " +
            "them.", error.Message);
        Assert.Equal(Texts.Length, (await generator.GenerateAsync(Texts, new EmbeddingGenerationOptions { Dimensions = 384 })).Count);
    }

    [Fact]
    public async Task NullText_RefusedNamingIt()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Cluster.Client.AsIEmbeddingGenerator().GenerateAsync(["a", null!]));

        Assert.Equal("values[1] is null. (Parameter 'values')", error.Message);
    }

    [Fact]
    public void GetService_Metadata()
    {
        var generator = InferenceClient.ForGrpc(fixture.Channel, EdgeFixture.InferKey).AsIEmbeddingGenerator();

        var metadata = generator.GetService<EmbeddingGeneratorMetadata>()!;

        Assert.Equal((InferenceClientAIExtensions.ProviderName, TextEmbeddings.DefaultModel), (metadata.ProviderName, metadata.DefaultModelId));
        Assert.Equal("dns", metadata.ProviderUri!.Scheme);
    }
}
