namespace Cluster.Grains.Tests.Admin;

/// <summary>Two silos, <c>admin-a</c> and <c>admin-b</c>, over a repository where tiny_classifier and int64_scale have two versions.</summary>
public sealed class AdminClusterFixture : IAsyncLifetime
{
    public InProcessCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await InProcessCluster.StartAsync(["admin-a", "admin-b"], prepareRepository: AdminCli.PrepareRepository);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
