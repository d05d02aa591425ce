using System.Diagnostics;
using Cluster.Silo.Hosting;

namespace Cluster.Benchmarks;

/// <summary>
/// The gen0 budget a silo is deployed with (<see cref="CollectorBudget"/>), which the benchmarks give to every silo process they start
/// and to the hand-written peer, so that both serve under the same collector; <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> runs them all with
/// the runtime's own budget instead.
/// </summary>
public static class ServingRuntime
{
    /// <summary>Whether <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> asks for the runtime's own budget.</summary>
    public static bool RuntimeBudget { get; } = Environment.GetEnvironmentVariable("CLUSTER_BENCH_GEN0SIZE") == "runtime";

    /// <summary>The budget the server processes get, as the benchmarks report it.</summary>
    public static string Gen0Budget => RuntimeBudget ? "runtime" : CollectorBudget.Recommended;

    /// <summary>Gives a server process the deployed budget, or takes it away for the runtime's own.</summary>
    public static void Apply(ProcessStartInfo start)
    {
        if (RuntimeBudget)
        {
            start.Environment.Remove(CollectorBudget.Variable);
        }
        else
        {
            start.Environment[CollectorBudget.Variable] = CollectorBudget.Recommended;
        }
    }
}
