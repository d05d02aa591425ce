using System.Diagnostics;

namespace Cluster.Benchmarks;

/// <summary>
/// The .NET runtime setting a silo is deployed with (its launch settings, the container images, <c>deploy/local/fleet.sh</c>): a 64 MiB
/// gen0 budget per garbage-collector heap. The benchmarks give it to every silo process they start and to the hand-written peer, so that
/// both serve under the same collector; <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> runs them all with the runtime's own budget instead.
/// </summary>
public static class ServingRuntime
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    public const string Gen0Size = "0x4000000";

    /// <summary>Whether <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> asks for the runtime's own budget.</summary>
    public static bool RuntimeBudget { get; } = Environment.GetEnvironmentVariable("CLUSTER_BENCH_GEN0SIZE") == "runtime";

    /// <summary>The budget the server processes get, as the benchmarks report it.</summary>
    public static string Gen0Budget => RuntimeBudget ? "runtime" : Gen0Size;

    /// <summary>Gives a server process the deployed budget, or takes it away for the runtime's own.</summary>
    public static void Apply(ProcessStartInfo start)
    {
        if (RuntimeBudget)
        {
            start.Environment.Remove(Gen0SizeVariable);
        }
        else
        {
            start.Environment[Gen0SizeVariable] = Gen0Size;
        }
    }
}
