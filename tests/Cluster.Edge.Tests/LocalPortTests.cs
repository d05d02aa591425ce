using System.Net;
using Grpc.Core;

namespace Cluster.Edge.Tests;

/// <summary>Each surface answers on its own port only, whatever the Host header says; a gRPC method nobody offers is UNIMPLEMENTED.</summary>
[Collection(EdgeCollection.Name)]
public sealed class LocalPortTests(EdgeFixture fixture)
{
    [Fact]
    public async Task RestRoute_OnTheGrpcPort_IsNotFound()
    {
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var onGrpcPort = await http.GetAsync(fixture.Cluster.GrpcAddresses[0] + "/v2/health/live");
        using var onRestPort = await fixture.Http.GetAsync("/v2/health/live");

        Assert.Equal(HttpStatusCode.NotFound, onGrpcPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, onRestPort.StatusCode);
    }

    [Fact]
    public async Task Metrics_OnTheRestPortWithTheMetricsHostHeader_IsNotFound()
    {
        var metrics = new Uri(fixture.Cluster.MetricsAddresses[0]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Host = $"{metrics.Host}:{metrics.Port}";

        using var spoofed = await fixture.Http.SendAsync(request);
        using var direct = await fixture.Http.GetAsync(fixture.Cluster.MetricsAddresses[0] + "/metrics");

        Assert.Equal(HttpStatusCode.NotFound, spoofed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
    }

    [Theory]
    [InlineData("inference.GRPCInferenceService", "NoSuchMethod")]
    [InlineData("no.such.Service", "ModelInfer")]
    public async Task UnknownGrpcMethod_IsUnimplemented_NamingIt(string service, string method)
    {
        var bytes = Marshallers.Create<byte[]>(b => b, b => b);
        var call = new Method<byte[], byte[]>(MethodType.Unary, service, method, bytes, bytes);

        var invoker = fixture.Channel.CreateCallInvoker();

        var refused = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(call, null, new CallOptions(), []).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Contains($"/{service}/{method}", refused.Status.Detail, StringComparison.Ordinal);
    }
}
