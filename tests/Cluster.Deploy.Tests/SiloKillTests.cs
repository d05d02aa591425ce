using Cluster.Benchmarks;
using Cluster.Tests.Shared;
using Xunit.Abstractions;

namespace Cluster.Deploy.Tests;

/// <summary>
/// The chaos suite's silo kill: three silo processes through a real Redis, 32 SDK callers and 4 gRPC-edge
/// callers in closed loops, and a SIGKILL of the silo holding a replica (the reliability benchmark's own
/// measurement, <see cref="SiloKillRecovery"/>). Nothing may be lost, fail or run twice, and the survivors must
/// carry the load again; the benchmark reports how fast (3–4 s on an idle machine), the test allows for a busy one.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class SiloKillTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SiloKilledUnderLoad_LosesAndRepeatsNothing_AndTheSurvivorsCarryTheLoad()
    {
        var kill = await SiloKillRecovery.MeasureAsync(RepositoryPaths.Root);
        var summary = string.Join("; ", SiloKillRecovery.Rows(kill).Select(r => string.Join(" ", r)));
        output.WriteLine(summary);

        Assert.True(kill.Sdk.Calls > 0 && kill.Edge.Calls > 0, summary);
        Assert.True(kill.Sdk.Lost == 0 && kill.Edge.Lost == 0, summary);

        // A request in flight on the killed silo goes to another replica (the model does not opt out), so none fails.
        Assert.True(kill.Sdk.FailedFinal == 0 && kill.Edge.FailedFinal == 0, summary);
        Assert.True(kill.Sdk.WrongId == 0 && kill.Edge.WrongId == 0 && kill.Duplicated == 0, summary);
        Assert.True(kill.DeadDeclaredSeconds is not null, summary);
        Assert.True(kill.ThroughputRecoverySeconds is { } recovered && recovered <= 30, summary);
    }
}
