using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cluster.Client;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Tests.Text;

namespace Cluster.Edge.Tests;

/// <summary>The bundled all-MiniLM-L6-v2 served by the cluster, compared with an independent reference run.</summary>
[Collection(EdgeCollection.Name)]
public sealed class EmbeddingTests(EdgeFixture fixture) : IDisposable
{
    private static readonly string[] Sentences =
    [
        "A man is eating food.",
        "Someone is having a meal.",
        "The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
        "Hi.",
        "Orleans grains hold ONNX Runtime sessions on every GPU of the fleet.",
        "The stock market fell sharply today.",
    ];

    private readonly ReferenceEmbeddings _reference = new();

    public void Dispose() => _reference.Dispose();

    [Fact]
    public async Task EmbedAsync_OverGrainCalls_EqualsTheReference()
    {
        // Each sentence alone and concurrently, so the batcher merges requests of different lengths.
        var vectors = await Task.WhenAll(Sentences.Select(s => fixture.Cluster.Client.EmbedAsync([s])));

        for (var i = 0; i < Sentences.Length; i++)
        {
            ReferenceEmbeddings.AssertClose(_reference.Embed(Sentences[i]), Assert.Single(vectors[i]));
        }
    }

    [Fact]
    public async Task EmbedAsync_OverGrpc_EqualsTheReferenceForManyTextsInOrder()
    {
        var client = InferenceClient.ForGrpc(fixture.Channel, EdgeFixture.InferKey);
        var texts = Enumerable.Range(0, 70).Select(i => $"{Sentences[i % Sentences.Length]} ({i})").ToArray();

        var vectors = await client.EmbedAsync(texts);

        Assert.Equal(texts.Length, vectors.Length);
        foreach (var i in new[] { 0, 33, 69 })
        {
            ReferenceEmbeddings.AssertClose(_reference.Embed(texts[i]), vectors[i]);
        }
    }

    [Fact]
    public async Task Rest_InferWithBytes_ReturnsEmbeddings()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{TextEmbeddings.DefaultModel}/infer");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EdgeFixture.InferKey);
        request.Content = JsonContent.Create(new
        {
            inputs = new[] { new { name = "text", datatype = "BYTES", shape = new[] { 2 }, data = new[] { Sentences[0], Sentences[1] } } },
        });

        using var response = await fixture.Http.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var output = body.RootElement.GetProperty("outputs")[0];
        Assert.Equal("embedding", output.GetProperty("name").GetString());
        Assert.Equal([2, 384], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        var values = output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        ReferenceEmbeddings.AssertClose(_reference.Embed(Sentences[1]), values[384..]);
    }

    [Fact]
    public async Task Statistics_ReportThePaddingOfMergedBatches()
    {
        await Task.WhenAll(Sentences.Select(s => fixture.Cluster.Client.EmbedAsync([s, s + " " + s])));

        var statistics = await fixture.Cluster.Client.GetStatisticsAsync(TextEmbeddings.DefaultModel);

        Assert.True(statistics.Tokens.Real >= Sentences.Length * 2 * 3, $"{statistics.Tokens.Real} real tokens");
        Assert.InRange(statistics.Tokens.PaddingFraction, 0, 0.2);
        var replica = (await fixture.Cluster.Connection.Admin.GetModelAsync(TextEmbeddings.DefaultModel)).Versions.Single().Replicas.Single();
        Assert.True(replica.Tokens.Real >= statistics.Tokens.Real, "the admin view reports the replica's tokens");
    }

    [Fact]
    public async Task RawEncoder_StaysCallableOnItsOwn()
    {
        long[] ids = [101, 7592, 2088, 102];
        var response = await fixture.Cluster.Client.InferAsync(ReferenceEmbeddings.RawModel,
        [
            TensorData.FromInt64("input_ids", ids, 1, 4),
            TensorData.FromInt64("attention_mask", [1, 1, 1, 1], 1, 4),
            TensorData.FromInt64("token_type_ids", [0, 0, 0, 0], 1, 4),
        ], outputs: ["last_hidden_state"]);

        Assert.Equal([1L, 4L, 384L], response.Output("last_hidden_state").Shape);
    }

    [Fact]
    public async Task WrongInput_IsRejectedNamingTheModelAndInput()
    {
        var error = await Assert.ThrowsAsync<Cluster.Contracts.Errors.InvalidInputException>(() =>
            fixture.Cluster.Client.InferAsync(TextEmbeddings.DefaultModel, [TensorData.FromFloat32("text", [1f], 1)]));

        Assert.Contains($"Input 'text' of model '{TextEmbeddings.DefaultModel}' version 1 has datatype FP32; expected BYTES", error.Message,
            StringComparison.Ordinal);
    }
}
