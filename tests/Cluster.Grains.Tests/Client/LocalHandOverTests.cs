using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Grains.Tests.Client;

/// <summary>
/// The transport's hand-over to a replica in its own process (<see cref="LocalHandOver"/>): the replica's answer or error reaches the
/// caller as it is, and a request the replica did not start, refused at once or later, goes to a replica by the routed loop.
/// The "local" replica here is a stand-in entry point; the routed loop's grain call reaches the real one.
/// </summary>
public sealed class LocalHandOverTests
{
    private const string Model = "tiny_classifier";

    private static readonly InferenceRequest Request = new() { Id = "r", Inputs = [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)] };

    [Fact]
    public async Task HandOver_AnswersAndErrors_PassThrough_NotStarted_GoesToTheRoutedLoop()
    {
        await using var cluster = await InProcessCluster.StartAsync(["hand-over"]);
        var expected = (await cluster.Client.InferAsync(Model, Request.Inputs)).Output("probabilities").AsFloat32();
        Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>>? local = null;
        var handedOver = 0;
        using var transport = new OrleansTransport(cluster.Connection.Grains, key =>
        {
            // Offered once: the routed loop's next attempt finds no replica here and makes a grain call.
            var serve = Interlocked.Exchange(ref local, null);
            if (serve is not null)
            {
                Interlocked.Increment(ref handedOver);
            }

            return serve;
        });
        var target = await transport.ResolveAsync(Model, null);
        await WaitForReplicaOnTheBoardAsync(transport, target);

        var answer = new TaskCompletionSource<InferenceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        local = (request, _) => new(answer.Task);
        var pending = transport.InferAsync(target, Request, CancellationToken.None);
        Assert.False(pending.IsCompleted);
        var response = new InferenceResponse { Model = Model, Version = 1, Id = "from-the-replica", Outputs = [] };
        answer.SetResult(response);
        Assert.Same(response, await pending);

        local = (_, _) => ValueTask.FromException<InferenceResponse>(new InvalidInputException("bad input"));
        Assert.Equal("bad input", (await Assert.ThrowsAsync<InvalidInputException>(async () => await transport.InferAsync(target, Request, default))).Message);

        local = (_, _) => throw new ReplicaNotStartedException("retiring");
        Assert.Equal(expected, (await transport.InferAsync(target, Request, default)).Output("probabilities").AsFloat32());

        var refusal = new TaskCompletionSource<InferenceResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        local = (_, _) => new(refusal.Task);
        var refusedLater = transport.InferAsync(target, Request, default);
        refusal.SetException(new ReplicaNotStartedException("stopped before the batch ran"));
        Assert.Equal(expected, (await refusedLater).Output("probabilities").AsFloat32());

        Assert.Equal(4, handedOver);
    }

    /// <summary>The hand-over is the router's first choice: it needs the replica in the router's table.</summary>
    private static async Task WaitForReplicaOnTheBoardAsync(OrleansTransport transport, ModelTarget target)
    {
        await transport.Router.WaitForFirstTableAsync(CancellationToken.None);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (transport.Router.Choose(Model, target.Version.Version, null) is null)
        {
            Assert.True(DateTime.UtcNow < until, "The replica never appeared on the load board.");
            await Task.Delay(100);
        }
    }
}
