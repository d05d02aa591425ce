using Cluster.Contracts.Models;
using Cluster.Inference.Replicas;

namespace Cluster.Inference.Tests.Replicas;

public sealed class ReplicaBoardTests
{
    [Fact]
    public void Start_ReplicasStartingTogether_SpreadOverTheDevices()
    {
        var board = new ReplicaBoard();
        string[] devices = ["sim:x:0", "sim:x:1", "sim:x:2"];
        var chosen = Enumerable.Range(0, 6).AsParallel().Select(i => board.Start($"m:1/{i}", "m", 1, "s", devices, () => (0, 0)).Device).ToList();
        Assert.All(devices, d => Assert.Equal(2, chosen.Count(c => c == d)));
    }

    [Fact]
    public void Counts_OnlyReadyReplicas()
    {
        var board = new ReplicaBoard();
        board.Start("m:1/0", "m", 1, "s", ["cpu:0"], () => (0, 0)).Ready = true;
        board.Start("m:1/1", "m", 1, "s", ["cpu:0"], () => (0, 0));
        Assert.Equal([(("m", 1L, "s"), 1)], board.Counts());
    }

    [Fact]
    public void Find_OnlyAReadyReplicaNotRetiring_IsHandedRequests()
    {
        var board = new ReplicaBoard();
        Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>> serve = (_, _) =>
            ValueTask.FromResult(new InferenceResponse { Model = "m", Version = 1, Outputs = [] });
        var entry = board.Start("m:1/0", "m", 1, "s", ["cpu:0"], () => (0, 0));
        entry.Serve = serve;
        Assert.Null(board.Find("m:1/0"));

        entry.Ready = true;
        Assert.Same(serve, board.Find("m:1/0"));
        Assert.Null(board.Find("m:1/1"));

        entry.Retiring = true;
        Assert.Null(board.Find("m:1/0"));

        entry.Retiring = false;
        board.Gone("m:1/0");
        Assert.Null(board.Find("m:1/0"));
    }
}
