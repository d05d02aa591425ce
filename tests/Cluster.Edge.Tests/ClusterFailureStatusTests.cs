using Cluster.Silo.Edge;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Edge.Tests;

/// <summary>Orleans' own failures inside the cluster reach callers as honest statuses with messages that name nothing inside it.</summary>
public sealed class ClusterFailureStatusTests
{
    /// <summary>Orleans' response timeout names the silo's address, the message and the grain id.</summary>
    private const string OrleansTimeout =
        "Response did not arrive on time in 00:00:30 for message: Request S10.1.2.3:11111:123456789@S10.1.2.4:11111:98765 model-batcher/tiny_classifier@1#0 " +
            "#42.";

    [Fact]
    public void OrleansResponseTimeout_IsDeadlineExceededWithAGenericMessage()
    {
        var error = new GrpcErrors(NullLogger<GrpcErrors>.Instance)
            .Translate("/inference.GRPCInferenceService/ModelInfer", new TimeoutException(OrleansTimeout));

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(EdgeErrors.NoAnswerInTime, error.Status.Detail);
        Assert.Equal(504, EdgeErrors.HttpStatusOf(EdgeErrors.StatusOf(new TimeoutException(OrleansTimeout))!.Value));
    }

    [Fact]
    public void SiloUnavailable_IsUnavailableWithAGenericMessage()
    {
        var error = new GrpcErrors(NullLogger<GrpcErrors>.Instance)
            .Translate("/inference.GRPCInferenceService/ModelInfer",
                new SiloUnavailableException(
                    "The target silo S10.1.2.3:11111:123456789 became unavailable for message: Request model-batcher/tiny_classifier@1#0."));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.DoesNotContain("10.1.2.3", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("model-batcher", error.Status.Detail, StringComparison.Ordinal);
    }
}
