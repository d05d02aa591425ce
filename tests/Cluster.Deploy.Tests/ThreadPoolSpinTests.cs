using System.Xml.Linq;
using Cluster.Silo.Hosting;
using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>The silo's runtimeconfig carries the spin limit it is deployed with, the one the benchmarks give the peer too.</summary>
public sealed class ThreadPoolSpinTests
{
    [Fact]
    public void SiloProject_SetsTheSpinLimitInItsRuntimeConfig()
    {
        var project = XDocument.Load(Path.Combine(RepositoryPaths.Root, "silo/Cluster.Silo/Cluster.Silo.csproj"));

        var option = Assert.Single(project.Descendants("RuntimeHostConfigurationOption"), o => (string?)o.Attribute("Include") == ThreadPoolSpin.Setting);
        Assert.Equal(ThreadPoolSpin.Recommended, (string?)option.Attribute("Value"));
    }
}
