using System.Text.Json;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>Every way of starting a silo gives it the collector budget it is deployed with, the one the benchmarks measure with.</summary>
public sealed class CollectorBudgetTests
{
    [Theory]
    [InlineData("deploy/docker/Dockerfile.silo")]
    [InlineData("deploy/docker/Dockerfile.silo-cuda")]
    public void ContainerImage_SetsTheGen0Budget(string file)
    {
        var image = DockerfileModel.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, file)));

        Assert.Equal(CollectorBudget.Recommended, image.Environment.GetValueOrDefault(CollectorBudget.Variable));
    }

    [Fact]
    public void DotnetRun_SetsTheGen0Budget()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "silo/Cluster.Silo/Properties/launchSettings.json")));
        var profile = Assert.Single(settings.RootElement.GetProperty("profiles").EnumerateObject()).Value;

        Assert.Equal(CollectorBudget.Recommended, profile.GetProperty("environmentVariables").GetProperty(CollectorBudget.Variable).GetString());
    }

    [Fact]
    public void LocalFleet_SetsTheGen0Budget() =>
        Assert.Contains($"\"{CollectorBudget.Variable}={CollectorBudget.Recommended}\"", File.ReadAllText(Path.Combine(RepositoryPaths.Root,
            "deploy/local/fleet.sh")), StringComparison.Ordinal);
}
