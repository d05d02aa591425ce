using Cluster.Contracts.Experiments;

namespace Cluster.Inference.Experiments;

/// <summary>
/// 95% confidence intervals for the difference between two arms: a percentile bootstrap for latency quantiles (no
/// assumption about the shape of latency, which is skewed and often bimodal), and Newcombe's hybrid score interval built
/// from Wilson intervals for rates (well behaved near 0 and 1, where error rates live, unlike the normal approximation).
/// </summary>
public static class ConfidenceIntervals
{
    /// <summary>The standard normal quantile for a two-sided 95% interval.</summary>
    private const double Z = 1.959963984540054;

    /// <summary>Bootstrap resamples per interval.</summary>
    public const int Resamples = 1000;

    /// <summary>
    /// <paramref name="quantile"/> of <paramref name="arm"/> minus that of <paramref name="control"/>, with the 2.5th and
    /// 97.5th percentiles of the same difference over <see cref="Resamples"/> resamples of each drawn with replacement.
    /// <paramref name="seed"/> fixes the draws, so one data set always gives one interval.
    /// </summary>
    public static Difference QuantileDifference(IReadOnlyList<double> control, IReadOnlyList<double> arm, double quantile, int seed)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(arm);
        if (control.Count == 0 || arm.Count == 0)
        {
            throw new ArgumentException("Both samples need at least one value.");
        }

        var random = new Random(seed);
        var differences = new double[Resamples];
        var controlDraw = new double[control.Count];
        var armDraw = new double[arm.Count];
        for (var r = 0; r < Resamples; r++)
        {
            differences[r] = Quantile(Resample(arm, armDraw, random), quantile) - Quantile(Resample(control, controlDraw, random), quantile);
        }

        Array.Sort(differences);
        var estimate = Quantile(Sorted(arm), quantile) - Quantile(Sorted(control), quantile);
        return new Difference(estimate, differences[(int)(0.025 * (Resamples - 1))], differences[(int)Math.Ceiling(0.975 * (Resamples - 1))]);
    }

    /// <summary>The rate <paramref name="armHits"/>/<paramref name="armTotal"/> minus <paramref name="controlHits"/>/<paramref name="controlTotal"/>, with
    /// Newcombe's interval.</summary>
    public static Difference RateDifference(long controlHits, long controlTotal, long armHits, long armTotal)
    {
        if (controlTotal <= 0 || armTotal <= 0)
        {
            throw new ArgumentException("Both rates need at least one trial.");
        }

        var (armRate, armLow, armHigh) = Wilson(armHits, armTotal);
        var (controlRate, controlLow, controlHigh) = Wilson(controlHits, controlTotal);
        var estimate = armRate - controlRate;
        return new Difference(
            estimate,
            estimate - Math.Sqrt(Square(armRate - armLow) + Square(controlHigh - controlRate)),
            estimate + Math.Sqrt(Square(armHigh - armRate) + Square(controlRate - controlLow)));
    }

    /// <summary>The rate and its Wilson score interval.</summary>
    public static (double Rate, double Low, double High) Wilson(long hits, long total)
    {
        var n = (double)total;
        var p = hits / n;
        var centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n);
        var half = Z / (1 + Z * Z / n) * Math.Sqrt(p * (1 - p) / n + Z * Z / (4 * n * n));
        return (p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>The <paramref name="quantile"/> of ascending <paramref name="sorted"/> by the nearest-rank method.</summary>
    public static double Quantile(double[] sorted, double quantile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    private static double[] Sorted(IReadOnlyList<double> values)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    private static double[] Resample(IReadOnlyList<double> values, double[] into, Random random)
    {
        for (var i = 0; i < into.Length; i++)
        {
            into[i] = values[random.Next(values.Count)];
        }

        Array.Sort(into);
        return into;
    }

    private static double Square(double x) => x * x;
}
