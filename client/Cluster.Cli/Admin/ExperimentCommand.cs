using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Experiments;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>
/// <c>experiment start | show | promote | stop</c>: A/B tests of a model's versions and settings, each arm on replicas of its own.
/// </summary>
public static class ExperimentCommand
{
    private const string Usage =
        "experiment start <model> --arm <name>=<version>:<percent> --arm ... [--set <arm>.<setting>=<value> ...] "
        + "[--max-error-increase 0.05] [--max-p99-ratio 2] [--window-seconds 30] [--min-requests 20] | experiment show <model> "
        + "| experiment promote <model> <arm> | experiment stop <model>   (each with --json)";

    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var json = args.Has("--json");
        switch (args.Positional)
        {
            case ["start", var model]:
                var started = await admin.StartExperimentAsync(Definition(model, args));
                if (json)
                {
                    console.WriteJson(started);
                }
                else
                {
                    console.Line($"Experiment {started.Id} started on model '{model}'.");
                    console.Write(ExperimentText.Arms([started]));
                }

                return 0;
            case ["show", var model]:
                var report = await admin.GetExperimentAsync(model);
                if (json)
                {
                    console.WriteJson(report);
                }
                else
                {
                    ExperimentText.Write(console, report);
                }

                return 0;
            case ["promote", var model, var arm]:
                var promoted = await admin.EndExperimentAsync(model, arm);
                ModelCommand.Write(console, promoted, json);
                if (!json)
                {
                    console.Line($"Arm '{arm}' is now model '{model}''s configuration; its replicas restarted under the arm's settings.");
                }

                return 0;
            case ["stop", var model]:
                var stopped = await admin.EndExperimentAsync(model, null);
                ModelCommand.Write(console, stopped, json);
                if (!json)
                {
                    console.Line($"The experiment on model '{model}' ended; its requests go to the model's own replicas.");
                }

                return 0;
            default:
                throw new UsageException("Usage: " + Usage);
        }
    }

    /// <summary>The experiment the options describe (its id and start time are given by the registry).</summary>
    private static Experiment Definition(string model, CliArguments args)
    {
        var arms = args.All("--arm").Select(ParseArm).ToList();
        if (arms.Count == 0)
        {
            throw new UsageException("--arm is missing: give each arm as --arm <name>=<version>:<percent>, the control first. Usage: " + Usage);
        }

        foreach (var setting in args.All("--set"))
        {
            var dot = setting.IndexOf('.', StringComparison.Ordinal);
            var index = dot < 0 ? -1 : arms.FindIndex(a => a.Name == setting[..dot]);
            if (index < 0)
            {
                throw new UsageException($"--set '{setting}' must be <arm>.<setting>=<value> naming one of the arms " +
                    $"({string.Join(", ", arms.Select(a => a.Name))}).");
            }

            try
            {
                arms[index] = arms[index] with { Overrides = arms[index].Overrides.With(setting[(dot + 1)..]) };
            }
            catch (FormatException e)
            {
                throw new UsageException($"--set '{setting}': {e.Message}");
            }
        }

        var rail = new GuardRail();
        return new Experiment
        {
            Id = "",
            Model = model,
            Arms = [.. arms],
            GuardRail = rail with
            {
                MaxErrorRateIncrease = Fraction(args, "--max-error-increase") ?? rail.MaxErrorRateIncrease,
                MaxP99Ratio = Fraction(args, "--max-p99-ratio") ?? rail.MaxP99Ratio,
                Window = AdminCommands.Number(args, "--window-seconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : rail.Window,
                MinRequests = (int?)AdminCommands.Number(args, "--min-requests") ?? rail.MinRequests,
            },
        };
    }

    private static ExperimentArm ParseArm(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var colon = text.LastIndexOf(':');
        return equals > 0 && colon > equals
            && long.TryParse(text.AsSpan(equals + 1, colon - equals - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var percent)
            ? new ExperimentArm { Name = text[..equals], Version = version, Percent = percent }
            : throw new UsageException($"--arm '{text}' is not <name>=<version>:<percent> (e.g. --arm control=1:50).");
    }

    private static double? Fraction(CliArguments args, string option) =>
        args.Value(option) is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value
                : throw new UsageException($"{option} '{text}' is not a number.")
            : null;
}
