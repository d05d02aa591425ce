using Cluster.Client.Protocol;
using Grpc.Net.Client;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class StreamBoundsTests(EdgeFixture fixture)
{
    /// <summary>Requests the client tries to send: 6.4 MB of 16 KiB requests, far beyond HTTP/2's flow-control windows.</summary>
    private const int Sent = 400;

    /// <summary>
    /// Answers that may have run beyond the cap: those written into the flow-control windows and buffers
    /// between the edge and a client that does not read (about 200 KB, so about a dozen 16 KiB answers).
    /// </summary>
    private const int BufferedAnswers = 24;

    [Fact]
    public async Task ModelStreamInfer_ClientNeverReadsAnswers_SiloStopsReadingAtTheCap()
    {
        // A channel of its own: the unread answers fill this connection's windows, not the fixture's.
        using var channel =
            GrpcChannel.ForAddress(fixture.Cluster.GrpcAddresses[0], new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var before = await InferenceCountAsync();
        using var stop = new CancellationTokenSource();
        using var call = grpc.ModelStreamInfer(Key(), cancellationToken: stop.Token);
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < Sent; i++)
            {
                await call.RequestStream.WriteAsync(Echo(i), stop.Token);
            }
        });

        // The cap's requests run at once; then the answers that fit the windows; then nothing more.
        var ran = 0L;
        while (ran < MaxStreamRequestsInFlight && !writing.IsCompleted)
        {
            await Task.Delay(50);
            ran = await InferenceCountAsync() - before;
        }

        for (var check = 0; check < 20; check++)
        {
            await Task.Delay(100);
            ran = await InferenceCountAsync() - before;
            Assert.InRange(ran, MaxStreamRequestsInFlight, MaxStreamRequestsInFlight + BufferedAnswers);
        }

        Assert.False(writing.IsCompleted, "The silo read every request although the client read no answer.");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => writing);
    }

    private static ModelInferRequest Echo(int i)
    {
        var request = new ModelInferRequest { ModelName = EchoModel, Id = $"echo-{i}" };
        request.Inputs.Add(Input("x", "FP32", [1, MaxElementsPerTensor], c => c.Fp32Contents.Add(new float[MaxElementsPerTensor])));
        return request;
    }

    private async Task<long> InferenceCountAsync()
    {
        var statistics = await fixture.Grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = EchoModel }, Key());
        return statistics.ModelStats.Sum(s => (long)s.InferenceCount);
    }
}
