using Cluster.Contracts.Experiments;

namespace Cluster.Inference.Experiments;

/// <summary>Turns each arm's measurements into the report an operator reads: rates, latency quantiles, and each arm against the control.</summary>
public static class ExperimentComparison
{
    /// <summary>The fewest observations on each side before a confidence interval is given.</summary>
    public const int MinObservations = 30;

    /// <summary>Fixes the bootstrap's draws, so a report read twice over the same data says the same.</summary>
    private const int BootstrapSeed = 20;

    /// <summary>
    /// The report for <paramref name="experiment"/> from <paramref name="statistics"/> (one per arm, in the experiment's
    /// order; empty statistics for an arm not yet measured), with throughput over the guard rail's window ending <paramref name="now"/>.
    /// </summary>
    public static ExperimentReport Report(Experiment experiment, IReadOnlyList<ArmStatistics> statistics, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(statistics);
        var shares = experiment.LiveShares();
        var control = statistics[0];
        var arms = new ArmReport[experiment.Arms.Length];
        for (var i = 0; i < arms.Length; i++)
        {
            var measured = statistics[i];
            var latencies = Latencies(measured);
            var firstTokens = Sorted(measured, s => s.FirstTokenMilliseconds);
            var rates = Sorted(measured, s => s.TokensPerSecond);
            var windowStart = now - experiment.GuardRail.Window;
            arms[i] = new ArmReport
            {
                Arm = experiment.Arms[i].Name,
                Percent = shares[i],
                Requests = measured.Requests,
                ErrorRate = measured.Requests == 0 ? 0 : (double)measured.Errors / measured.Requests,
                AcceptanceRate = measured.Feedback == 0 ? null : (double)measured.Accepted / measured.Feedback,
                Feedback = measured.Feedback,
                P50Milliseconds = latencies.Length == 0 ? null : ConfidenceIntervals.Quantile(latencies, 0.5),
                P99Milliseconds = latencies.Length == 0 ? null : ConfidenceIntervals.Quantile(latencies, 0.99),
                Throughput = measured.Samples.Count(s => s.At > windowStart) / experiment.GuardRail.Window.TotalSeconds,
                VersusControl = i == 0 ? null : Compare(control, measured),
                FirstTokenP50Milliseconds = firstTokens.Length == 0 ? null : ConfidenceIntervals.Quantile(firstTokens, 0.5),
                FirstTokenP99Milliseconds = firstTokens.Length == 0 ? null : ConfidenceIntervals.Quantile(firstTokens, 0.99),
                TokensPerSecond = rates.Length == 0 ? null : ConfidenceIntervals.Quantile(rates, 0.5),
            };
        }

        return new ExperimentReport { Experiment = experiment, Arms = arms };
    }

    /// <summary>The arm minus the control, each difference null while either side has fewer than <see cref="MinObservations"/> observations.</summary>
    public static ArmComparison Compare(ArmStatistics control, ArmStatistics arm)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(arm);
        var controlLatencies = Latencies(control);
        var armLatencies = Latencies(arm);
        var latencies = controlLatencies.Length >= MinObservations && armLatencies.Length >= MinObservations;
        return new ArmComparison
        {
            P50Milliseconds = latencies ? ConfidenceIntervals.QuantileDifference(controlLatencies, armLatencies, 0.5, BootstrapSeed) : null,
            P99Milliseconds = latencies ? ConfidenceIntervals.QuantileDifference(controlLatencies, armLatencies, 0.99, BootstrapSeed) : null,
            ErrorRate = control.Requests >= MinObservations && arm.Requests >= MinObservations
                ? ConfidenceIntervals.RateDifference(control.Errors, control.Requests, arm.Errors, arm.Requests)
                : null,
            AcceptanceRate = control.Feedback >= MinObservations && arm.Feedback >= MinObservations
                ? ConfidenceIntervals.RateDifference(control.Accepted, control.Feedback, arm.Accepted, arm.Feedback)
                : null,
            FirstTokenP50Milliseconds = MedianDifference(control, arm, s => s.FirstTokenMilliseconds),
            TokensPerSecond = MedianDifference(control, arm, s => s.TokensPerSecond),
        };
    }

    /// <summary>The difference in the median of <paramref name="measure"/> (bootstrap); null while either side has too few values.</summary>
    private static Difference? MedianDifference(ArmStatistics control, ArmStatistics arm, Func<LatencySample, double?> measure)
    {
        var controlValues = Sorted(control, measure);
        var armValues = Sorted(arm, measure);
        return controlValues.Length >= MinObservations && armValues.Length >= MinObservations
            ? ConfidenceIntervals.QuantileDifference(controlValues, armValues, 0.5, BootstrapSeed)
            : null;
    }

    /// <summary>The latencies of the successful recent requests, ascending.</summary>
    private static double[] Latencies(ArmStatistics statistics) => Sorted(statistics, s => s.Milliseconds);

    /// <summary><paramref name="measure"/> of the successful recent requests that have it, ascending.</summary>
    private static double[] Sorted(ArmStatistics statistics, Func<LatencySample, double?> measure)
    {
        var values = statistics.Samples.Where(s => !s.Failed).Select(measure).OfType<double>().ToArray();
        Array.Sort(values);
        return values;
    }
}
