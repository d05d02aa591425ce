using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Experiments;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>An experiment as the console prints it: its arms, then each arm's figures and its differences from the control.</summary>
public static class ExperimentText
{
    /// <summary>What is printed for a difference whose interval still includes zero, or that lacks data.</summary>
    public const string NotYetSignificant = "not yet significant";

    /// <summary>The arms of <paramref name="experiments"/>: version, share, settings, and why a stopped one stopped.</summary>
    public static Table Arms(IEnumerable<Experiment> experiments)
    {
        ArgumentNullException.ThrowIfNull(experiments);
        var table = new Table().AddColumns("experiment", "arm", "version", "share", "settings", "state");
        foreach (var experiment in experiments)
        {
            var shares = experiment.LiveShares();
            for (var i = 0; i < experiment.Arms.Length; i++)
            {
                var arm = experiment.Arms[i];
                table.AddRow(
                    Markup.Escape(experiment.Id),
                    Markup.Escape(i == 0 ? arm.Name + " (control)" : arm.Name),
                    arm.Version.ToString(CultureInfo.InvariantCulture),
                    $"{shares[i]}%",
                    Markup.Escape(arm.Overrides.ToString()),
                    Markup.Escape(arm.StoppedReason is null ? "running" : "stopped by guard rail: " + arm.StoppedReason));
            }
        }

        return table;
    }

    /// <summary>The arms of the models' running experiments; null when none runs.</summary>
    public static Table? Running(IEnumerable<ModelView> models)
    {
        var running = models.Select(m => m.Model.Experiment).OfType<Experiment>().ToArray();
        return running.Length == 0 ? null : Arms(running);
    }

    /// <summary>Writes the whole report.</summary>
    public static void Write(IAnsiConsole console, ExperimentReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var experiment = report.Experiment;
        console.Line($"Experiment {experiment.Id} on model '{experiment.Model}', started {experiment.StartedAt:u}.");
        console.Write(Arms([experiment]));
        var figures = new Table().AddColumns("arm", "requests", "req/s", "errors", "p50 ms", "p99 ms", "accepted");
        foreach (var arm in report.Arms)
        {
            figures.AddRow(
                Markup.Escape(arm.Arm),
                arm.Requests.ToString(CultureInfo.InvariantCulture),
                arm.Throughput.ToString("0.##", CultureInfo.InvariantCulture),
                arm.ErrorRate.ToString("P1", CultureInfo.InvariantCulture),
                Number(arm.P50Milliseconds),
                Number(arm.P99Milliseconds),
                arm.AcceptanceRate is { } rate ? $"{rate.ToString("P1", CultureInfo.InvariantCulture)} of {arm.Feedback}" : "-");
        }

        console.Write(figures);
        var generates = Array.Exists(report.Arms, a => a.FirstTokenP50Milliseconds is not null);
        if (generates)
        {
            var generation = new Table().AddColumns("arm", "first token p50 ms", "first token p99 ms", "tokens/s p50");
            foreach (var arm in report.Arms)
            {
                generation.AddRow(
                    Markup.Escape(arm.Arm), Number(arm.FirstTokenP50Milliseconds), Number(arm.FirstTokenP99Milliseconds), Number(arm.TokensPerSecond));
            }

            console.Write(generation);
        }

        var control = report.Arms[0].Arm;
        foreach (var arm in report.Arms.Skip(1))
        {
            var versus = arm.VersusControl!;
            console.Line($"{arm.Arm} - {control} (95% confidence interval):");
            console.Line($"  p50 latency   {Milliseconds(versus.P50Milliseconds)}");
            console.Line($"  p99 latency   {Milliseconds(versus.P99Milliseconds)}");
            console.Line($"  error rate    {Points(versus.ErrorRate)}");
            console.Line($"  acceptance    {Points(versus.AcceptanceRate)}");
            if (generates)
            {
                console.Line($"  first token   {Milliseconds(versus.FirstTokenP50Milliseconds)} (p50)");
                console.Line($"  tokens/s      {Describe(versus.TokensPerSecond, v => v.ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture))} (p50)");
            }
        }
    }

    private static string Number(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "-";

    private static string Milliseconds(Difference? difference) =>
        Describe(difference, v => v.ToString("+0.###;-0.###;0", CultureInfo.InvariantCulture) + " ms");

    private static string Points(Difference? difference) =>
        Describe(difference, v => (v * 100).ToString("+0.##;-0.##;0", CultureInfo.InvariantCulture) + " pts");

    private static string Describe(Difference? difference, Func<double, string> format) => difference is { } d
        ? $"{format(d.Estimate)} [{format(d.Low)}, {format(d.High)}] {(d.Significant ? "significant" : NotYetSignificant)}"
        : $"too few observations, {NotYetSignificant}";
}
