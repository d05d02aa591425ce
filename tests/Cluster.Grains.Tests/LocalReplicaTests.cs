using Cluster.Client;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Grains;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Replicas;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Grains.Tests;

/// <summary>
/// A client inside a silo (the edge's) hands a request for a replica active in the same silo straight to it
/// (<see cref="ILocalReplicas"/>) instead of making a grain call; a replica that stopped takes none that way.
/// </summary>
public sealed class LocalReplicaTests
{
    /// <summary>tiny_classifier with <c>min_replicas: 0</c>, so nothing starts its replica again behind the test's back.</summary>
    private const string Model = "tiny_local";

    private static readonly TensorData[] Input = [TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4)];

    [Fact]
    public async Task HandedOver_AnswersAsTheGrainCallDoes_UntilTheReplicaStops()
    {
        await using var cluster = await InProcessCluster.StartAsync(["local"], prepareRepository: AddModel);
        var expected = (await cluster.Client.InferAsync(Model, Input)).Output("probabilities").AsFloat32();
        var key = new ReplicaKey(Model, 1, 0).ToString();
        var silo = cluster.Silos[0].Services;
        var serve = silo.GetRequiredService<ILocalReplicas>().Find(key);
        Assert.NotNull(serve);

        var handedOver = await serve(new InferenceRequest { Id = "local-1", Inputs = Input }, CancellationToken.None);
        Assert.Equal("local-1", handedOver.Id);
        Assert.Equal(expected, handedOver.Output("probabilities").AsFloat32());
        var edgeClient = silo.GetRequiredService<InferenceClient>();
        Assert.Equal(expected, (await edgeClient.InferAsync(Model, Input)).Output("probabilities").AsFloat32());

        await cluster.Client.Grains!.GetGrain<IModelBatcherGrain>(key).StopAsync();
        Assert.Null(silo.GetRequiredService<ILocalReplicas>().Find(key));
        await Assert.ThrowsAsync<ReplicaNotStartedException>(async () => await serve(new InferenceRequest { Inputs = Input }, CancellationToken.None));

        // The stopped replica deactivates 5 s later; a request handed to it after that is refused at once too.
        await Task.Delay(TimeSpan.FromSeconds(7));
        await Assert.ThrowsAsync<ReplicaNotStartedException>(() => serve(new InferenceRequest { Inputs = Input }, CancellationToken.None).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(10)));

        // The edge's client still answers: the request goes as a grain call, which starts the replica again.
        Assert.Equal(expected, (await edgeClient.InferAsync(Model, Input)).Output("probabilities").AsFloat32());
    }

    private static void AddModel(string repository)
    {
        var source = Path.Combine(repository, "tiny_classifier");
        var target = Path.Combine(repository, Model);
        Directory.CreateDirectory(Path.Combine(target, "1"));
        File.Copy(Path.Combine(source, "1", "model.onnx"), Path.Combine(target, "1", "model.onnx"));
        File.WriteAllText(Path.Combine(target, "config.json"), """{ "max_batch_size": 8, "device_kinds": ["cpu"], "min_replicas": 0 }""");
    }
}
