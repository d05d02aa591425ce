using System.Net;
using Cluster.Client.Protocol;
using Grpc.Health.V1;
using static Cluster.Edge.Tests.EdgeFixture;

namespace Cluster.Edge.Tests;

[Collection(EdgeCollection.Name)]
public sealed class ReadinessTests(EdgeFixture fixture)
{
    [Fact]
    public async Task LoadingAModel_NotReadyWhileItWarms_ReadyAfter()
    {
        await fixture.Grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = SlowWarmupModel }, Key());
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/v2/health/ready")).StatusCode);

        var load = fixture.Grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = SlowWarmupModel }, Key()).ResponseAsync;
        var sawNotReady = false;
        var grpcAgreed = false;
        while (!load.IsCompleted && !sawNotReady)
        {
            if ((await fixture.Http.GetAsync("/v2/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                sawNotReady = true;
                grpcAgreed = !(await fixture.Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready;
            }
        }

        await load;
        Assert.True(sawNotReady, "the silo never reported not ready while the model warmed up");
        Assert.True(grpcAgreed, "gRPC ServerReady disagreed with /v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/v2/health/ready")).StatusCode);
        Assert.True((await fixture.Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var health = new Health.HealthClient(fixture.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.True((await fixture.Grpc.ModelReadyAsync(new ModelReadyRequest { Name = SlowWarmupModel }, Key())).Ready);
    }
}
