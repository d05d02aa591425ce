using System.Diagnostics;
using System.Globalization;
using Cluster.Silo.Hosting;

namespace Cluster.Benchmarks;

/// <summary>
/// The runtime settings the benchmarks give to every silo process they start and to the hand-written peer, so that both serve under
/// the same runtime: the gen0 budget a silo is deployed with (<see cref="CollectorBudget"/>; <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> runs
/// them with the runtime's own instead), and, when <c>CLUSTER_BENCH_SPIN</c> names one, the thread pool's spin limit (else .NET's
/// default, as the silo is deployed). The benchmark's own process, which runs the callers and the in-process silos, keeps .NET's
/// defaults, as a caller's process would.
/// </summary>
public static class ServingRuntime
{
    /// <summary>The environment variable of the thread pool's spin limit: how many rounds an idle thread spins for work before it sleeps.</summary>
    private const string SpinVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>The spin limit <c>CLUSTER_BENCH_SPIN</c> asks for; null when unset (.NET's default).</summary>
    private static readonly int? SpinRounds = Environment.GetEnvironmentVariable("CLUSTER_BENCH_SPIN") is { Length: > 0 } asked
        ? int.TryParse(asked, CultureInfo.InvariantCulture, out var rounds) && rounds >= 0 ? rounds
            : throw new InvalidOperationException($"CLUSTER_BENCH_SPIN='{asked}' is not a spin limit (a whole number of rounds, 0 or more).")
        : null;

    /// <summary>Whether <c>CLUSTER_BENCH_GEN0SIZE=runtime</c> asks for the runtime's own budget.</summary>
    public static bool RuntimeBudget { get; } = Environment.GetEnvironmentVariable("CLUSTER_BENCH_GEN0SIZE") == "runtime";

    /// <summary>The budget the server processes get, as the benchmarks report it.</summary>
    public static string Gen0Budget => RuntimeBudget ? "runtime" : CollectorBudget.Recommended;

    /// <summary>The spin limit the server processes get, as the benchmarks report it: <c>CLUSTER_BENCH_SPIN</c>'s value, else <c>default</c>.</summary>
    public static string SpinLimit => SpinRounds?.ToString(CultureInfo.InvariantCulture) ?? "default";

    /// <summary>Gives a server process the deployed budget (or takes it away for the runtime's own), and the spin limit asked for.</summary>
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

        if (SpinRounds is null)
        {
            start.Environment.Remove(SpinVariable);
        }
        else
        {
            start.Environment[SpinVariable] = SpinLimit;
        }
    }
}
