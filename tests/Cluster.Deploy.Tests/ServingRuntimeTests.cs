using System.Text.Json;
using Cluster.Benchmarks;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>Every way of starting a silo gives it the same collector budget, the one the benchmarks measure with.</summary>
public sealed class ServingRuntimeTests
{
    [Theory]
    [InlineData("deploy/docker/Dockerfile.silo")]
    [InlineData("deploy/docker/Dockerfile.silo-cuda")]
    public void ContainerImage_SetsTheGen0Budget(string file)
    {
        var image = DockerfileModel.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, file)));

        Assert.Equal(ServingRuntime.Gen0Size, image.Environment.GetValueOrDefault(ServingRuntime.Gen0SizeVariable));
    }

    [Fact]
    public void DotnetRun_SetsTheGen0Budget()
    {
        using var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "silo/Cluster.Silo/Properties/launchSettings.json")));
        var profile = Assert.Single(settings.RootElement.GetProperty("profiles").EnumerateObject()).Value;

        Assert.Equal(ServingRuntime.Gen0Size, profile.GetProperty("environmentVariables").GetProperty(ServingRuntime.Gen0SizeVariable).GetString());
    }

    [Fact]
    public void LocalFleet_SetsTheGen0Budget() =>
        Assert.Contains($"\"{ServingRuntime.Gen0SizeVariable}={ServingRuntime.Gen0Size}\"", File.ReadAllText(Path.Combine(RepositoryPaths.Root,
            "deploy/local/fleet.sh")), StringComparison.Ordinal);
}
