using Cluster.Client.Protocol;
using Cluster.Edge.Tests.Fuzzing;
using Cluster.Grains.Tests;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Edge.Tests.Overload;

/// <summary>
/// <c>Cluster:Edge:MaxConcurrentRequests</c> at 1: while one request runs (a simulated device taking 400 ms per batch) the next is
/// refused with UNAVAILABLE naming the setting, and each request frees its place once answered, so later ones are served.
/// </summary>
[Collection(OverloadCollection.Name)]
public sealed class InFlightLimitTests : IAsyncLifetime
{
    private const string Model = SlowSimCluster.Model;

    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await SlowSimCluster.StartAsync(
        "in-flight",
        TimeSpan.FromMilliseconds(400),
        """{"max_batch_size": 4, "device_kinds": ["sim"]}""",
        new() { ["Cluster:Edge:MaxConcurrentRequests"] = "1" });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task OneRequestInFlight_NextIsRefused_ThenEachAnsweredRequestFreesItsPlace()
    {
        using var channel = GrpcChannel.ForAddress(_cluster.GrpcAddresses[0]);
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        var request = GrpcFuzzCases.Valid(Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1);
        await AcceptedAsync(grpc, request);

        var running = grpc.ModelInferAsync(request).ResponseAsync;
        await Task.Delay(100);
        var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.ModelInferAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("Cluster:Edge:MaxConcurrentRequests", refused.Status.Detail);
        await running;

        // The place is freed as the server finishes each answer, a moment after the client has it: a leaked place would refuse them all.
        for (var i = 0; i < 3; i++)
        {
            await AcceptedAsync(grpc, request);
        }
    }

    /// <summary>Sends <paramref name="request"/> until it is accepted, for at most 5 s, and checks its answer.</summary>
    private static async Task AcceptedAsync(GRPCInferenceService.GRPCInferenceServiceClient grpc, ModelInferRequest request)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                Assert.Equal(Model, (await grpc.ModelInferAsync(request)).ModelName);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < until)
            {
                await Task.Delay(20);
            }
        }
    }
}
