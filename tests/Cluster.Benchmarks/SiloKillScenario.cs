namespace Cluster.Benchmarks;

/// <summary><c>-- silo-kill</c>: only the silo-kill part of <c>reliability</c> (<see cref="SiloKillRecovery"/>); writes
/// artifacts/bench/silo-kill.json.</summary>
public sealed class SiloKillScenario : IBenchScenario
{
    public string Name => "silo-kill";

    public string Summary => "SIGKILL of one of three silos under 32 SDK and 4 gRPC closed-loop callers; writes silo-kill.json";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        Console.WriteLine("silo-kill: three silo processes, one replica each, then a SIGKILL of one under load");
        var kill = await SiloKillRecovery.MeasureAsync(repositoryRoot);
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "value"],
            [
                ["silo kill: last failure before 3 s of successes (s)", kill.RecoverySeconds is { } seconds ? BenchReport.Number(seconds, 2)
                    : "not within 20 s"],
                .. SiloKillRecovery.Rows(kill),
            ]));
        SiloKillRecovery.PrintErrors(kill);
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "silo-kill.json", kill)}");
    }
}
