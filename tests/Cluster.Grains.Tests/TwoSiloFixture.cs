using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests;

/// <summary>
/// Two silos, <c>silo-a</c> and <c>silo-b</c>. silo-a is told to use CUDA device 0 (unhealthy on a
/// machine without CUDA) and silo-b has two simulated T4s; the repository also holds a corrupt model.
/// </summary>
public sealed class TwoSiloFixture : IAsyncLifetime
{
    public InProcessCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await InProcessCluster.StartAsync(
        ["silo-a", "silo-b"],
        perSilo: i => i == 0
            ? new() { ["Cluster:Devices:Cuda"] = "0" }
            : new()
            {
                ["Cluster:Devices:Simulated:0:Profile"] = "t4", ["Cluster:Devices:Simulated:0:Count"] = "2",
                ["Cluster:Devices:Simulated:0:ComputeCapability"] = "7.5",
            },
        prepareRepository: repository =>
        {
            RepositoryPaths.AddCorruptModel(repository, "broken");
            BatchingModels.AddTo(repository);
        });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class TwoSiloCollection : ICollectionFixture<TwoSiloFixture>
{
    public const string Name = "two silos";
}
