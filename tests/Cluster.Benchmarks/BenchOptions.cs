using System.Globalization;
using System.Text;

namespace Cluster.Benchmarks;

/// <summary>
/// How long each load runs. <c>--seconds N</c> sets the measured period of a main scenario (default 5 s);
/// a sweep level measures 0.4 × N unless <c>--sweep-seconds</c> says otherwise; every load first
/// runs an unmeasured warm-up (<c>--warmup-seconds</c>, default 1 s). <see cref="SecondsGiven"/> and
/// <see cref="WarmupGiven"/> tell a scenario with longer defaults of its own whether the option was given. <c>--minutes N</c> sets how long the
/// <c>soak</c> scenario runs (default 10); <c>--cases N</c> how many cases the <c>fuzz</c> scenario sends (default 100,000).
/// </summary>
public sealed record BenchOptions(double Seconds, double SweepSeconds, double WarmupSeconds, bool SecondsGiven = false)
{
    /// <summary>How long the soak scenario runs, in minutes.</summary>
    public double Minutes { get; init; } = 10;

    /// <summary>How many cases the fuzz scenario sends, when <c>--cases</c> was given.</summary>
    public int? Cases { get; init; }

    /// <summary>Whether <c>--warmup-seconds</c> was given.</summary>
    public bool WarmupGiven { get; init; }

    /// <summary>The defaults: 5 s measured, 2 s per sweep level, 1 s warm-up.</summary>
    public static readonly BenchOptions Default = new(5, 2, 1);

    /// <summary>The measured period of a main scenario.</summary>
    public TimeSpan Measure => TimeSpan.FromSeconds(Seconds);

    /// <summary>The measured period of one sweep level.</summary>
    public TimeSpan SweepMeasure => TimeSpan.FromSeconds(SweepSeconds);

    /// <summary>The unmeasured period before each measurement.</summary>
    public TimeSpan Warmup => TimeSpan.FromSeconds(WarmupSeconds);

    /// <summary>Parses <c>&lt;scenario&gt; [--seconds N] [--sweep-seconds N] [--warmup-seconds N] [--minutes N]</c>.</summary>
    public static bool TryParse(string[] args, out string scenario, out BenchOptions options, out string error)
    {
        scenario = "";
        options = Default;
        error = "";
        double? seconds = null, sweep = null, warmup = null, minutes = null, cases = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (scenario.Length > 0)
                {
                    error = $"Only one scenario may be given, not '{scenario}' and '{args[i]}'.";
                    return false;
                }

                scenario = args[i];
                continue;
            }

            if (i + 1 >= args.Length || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
            {
                error = $"{args[i]} needs a positive number.";
                return false;
            }

            switch (args[i])
            {
                case "--seconds": seconds = value; break;
                case "--sweep-seconds": sweep = value; break;
                case "--warmup-seconds": warmup = value; break;
                case "--minutes": minutes = value; break;
                case "--cases": cases = value; break;
                default:
                    error = $"Unknown option '{args[i]}'.";
                    return false;
            }

            i++;
        }

        if (scenario.Length == 0)
        {
            error = "No scenario given.";
            return false;
        }

        var measured = seconds ?? Default.Seconds;
        options = new BenchOptions(measured, sweep ?? measured * 0.4, warmup ?? Default.WarmupSeconds, seconds is not null) { Minutes = minutes
            ?? Default.Minutes, WarmupGiven = warmup is not null, Cases = cases is { } n ? (int)Math.Ceiling(n) : null };
        return true;
    }

    /// <summary>The usage message listing the scenarios.</summary>
    public static string Usage(IEnumerable<IBenchScenario> scenarios)
    {
        var text = new StringBuilder()
            .AppendLine("usage: dotnet run -c Release --project tests/Cluster.Benchmarks -- <scenario> [--seconds N] [--sweep-seconds N] [--warmup-seconds " +
                "N] [--minutes N] [--cases N]")
            .AppendLine("  --seconds N          measured seconds per main load (default 5; placement and generation: 20 per schedule; reliability's " +
                "overload: 30)")
            .AppendLine("  --sweep-seconds N    measured seconds per sweep level (default 0.4 x --seconds)")
            .AppendLine("  --warmup-seconds N   unmeasured seconds before each load (default 1; generation: 10 per schedule)")
            .AppendLine("  --minutes N          how long the soak scenario runs (default 10)")
            .AppendLine("  --cases N            how many cases the fuzz scenario sends (default 100,000)")
            .AppendLine("scenarios:");
        foreach (var scenario in scenarios)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {scenario.Name,-20} {scenario.Summary}");
        }

        return text.ToString().TrimEnd();
    }
}
