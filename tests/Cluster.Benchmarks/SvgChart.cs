using System.Globalization;
using System.Security;
using System.Text;

namespace Cluster.Benchmarks;

/// <summary>One panel of an <see cref="SvgChart"/>: a y-axis label and one value per x.</summary>
public sealed record ChartPanel(string YLabel, IReadOnlyList<double> Values, string Colour);

/// <summary>
/// A hand-written SVG line chart: panels stacked vertically over a shared log2 x axis (x values are
/// powers of two, e.g. concurrency 1..128), each with a linear y axis from zero, grid lines and point labels.
/// Categories (e.g. schedules) are drawn at x = 1, 2, 4, … with their names as the x tick labels.
/// </summary>
public static class SvgChart
{
    private const double Width = 760;
    private const double Left = 100;
    private const double Right = 30;
    private const double XInset = 24;
    private const double Top = 60;
    private const double PanelHeight = 230;
    private const double PanelGap = 70;
    private const double Bottom = 60;
    private const int MaxYTicks = 5;

    /// <summary>
    /// Renders the panels against <paramref name="x"/> (positive, ascending) with a title and an x-axis label;
    /// <paramref name="xTickLabels"/>, when given, names each x instead of its number.
    /// </summary>
    public static string Render(string title, string xLabel, IReadOnlyList<double> x, IReadOnlyList<ChartPanel> panels,
        IReadOnlyList<string>? xTickLabels = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(panels);
        if (x.Count == 0 || x.Any(v => v <= 0) || panels.Any(p => p.Values.Count != x.Count) || (xTickLabels is not null && xTickLabels.Count != x.Count))
        {
            throw new ArgumentException("The chart needs positive x values, one value per x in every panel, and one tick label per x when labels are given.");
        }

        var height = Top + (panels.Count * PanelHeight) + ((panels.Count - 1) * PanelGap) + Bottom;
        var svg = new StringBuilder();
        svg.AppendLine(
            F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" ") +
                "font-size=\"12\">");
        svg.AppendLine(F($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>"));
        svg.AppendLine(F($"<text x=\"{Width / 2}\" y=\"30\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>"));
        var xMin = Math.Log2(x[0]);
        var xMax = Math.Log2(x[^1]);
        double XPixel(double value) =>
            Left + XInset + ((xMax > xMin ? (Math.Log2(value) - xMin) / (xMax - xMin) : 0.5) * (Width - Left - Right - (2 * XInset)));

        for (var p = 0; p < panels.Count; p++)
        {
            var top = Top + (p * (PanelHeight + PanelGap));
            DrawPanel(svg, panels[p], x, xTickLabels, XPixel, top);
        }

        var axisBottom = height - Bottom;
        svg.AppendLine(F($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{axisBottom + 45}\" text-anchor=\"middle\" font-size=\"13\">{Escape(xLabel)}</text>"));
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void DrawPanel(StringBuilder svg, ChartPanel panel, IReadOnlyList<double> x, IReadOnlyList<string>? xTickLabels, Func<double, double> xPixel,
        double top)
    {
        var bottom = top + PanelHeight;
        var headroom = panel.Values.DefaultIfEmpty(0).Max() * 1.08;
        var step = NiceStep(headroom / MaxYTicks);
        var ticks = Math.Max(1, (int)Math.Ceiling(headroom / step));
        var yMax = step * ticks;
        double YPixel(double value) => bottom - (value / yMax * PanelHeight);

        for (var t = 0; t <= ticks; t++)
        {
            var y = YPixel(t * step);
            svg.AppendLine(F($"<line x1=\"{Left}\" y1=\"{y:0.##}\" x2=\"{Width - Right}\" y2=\"{y:0.##}\" stroke=\"#e0e0e0\"/>"));
            svg.AppendLine(F($"<text x=\"{Left - 8}\" y=\"{y + 4:0.##}\" text-anchor=\"end\">{BenchReport.Number(t * step, DecimalsOf(step))}</text>"));
        }

        for (var i = 0; i < x.Count; i++)
        {
            var px = xPixel(x[i]);
            var tick = xTickLabels is null ? Label(x[i], 1) : Escape(xTickLabels[i]);
            svg.AppendLine(F($"<line x1=\"{px:0.##}\" y1=\"{top}\" x2=\"{px:0.##}\" y2=\"{bottom}\" stroke=\"#f0f0f0\"/>"));
            svg.AppendLine(F($"<text x=\"{px:0.##}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{tick}</text>"));
        }

        svg.AppendLine(F($"<rect x=\"{Left}\" y=\"{top}\" width=\"{Width - Left - Right}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#333\"/>"));
        var middle = top + (PanelHeight / 2);
        svg.AppendLine(
            F($"<text x=\"25\" y=\"{middle}\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 25 {middle})\">{Escape(panel.YLabel)}</text>"));

        var points = string.Join(" ", x.Select((value, i) => F($"{xPixel(value):0.##},{YPixel(panel.Values[i]):0.##}")));
        svg.AppendLine(F($"<polyline points=\"{points}\" fill=\"none\" stroke=\"{panel.Colour}\" stroke-width=\"2\"/>"));
        for (var i = 0; i < x.Count; i++)
        {
            var (px, py) = (xPixel(x[i]), YPixel(panel.Values[i]));
            svg.AppendLine(F($"<circle cx=\"{px:0.##}\" cy=\"{py:0.##}\" r=\"3.5\" fill=\"{panel.Colour}\"/>"));
            svg.AppendLine(
                F($"<text x=\"{px:0.##}\" y=\"{py - 8:0.##}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#444\">") +
                    F($"{Label(panel.Values[i], step / 10)}</text>"));
        }
    }

    /// <summary>A round step (1, 2, 2.5 or 5 times a power of ten) at least <paramref name="raw"/>.</summary>
    private static double NiceStep(double raw)
    {
        if (raw <= 0 || double.IsNaN(raw))
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var normalised = raw / magnitude;
        var nice = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 2.5 ? 2.5 : normalised <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    /// <summary>A value with as many decimals as <paramref name="resolution"/> needs (none from 1 up), thousands separated.</summary>
    private static string Label(double value, double resolution)
    {
        var decimals = resolution >= 1 ? 0 : Math.Min(3, (int)Math.Ceiling(-Math.Log10(resolution)));
        return BenchReport.Number(value, decimals);
    }

    /// <summary>The fewest decimals (up to 3) that show multiples of <paramref name="step"/> exactly.</summary>
    private static int DecimalsOf(double step)
    {
        for (var decimals = 0; decimals < 3; decimals++)
        {
            var scaled = step * Math.Pow(10, decimals);
            if (Math.Abs(scaled - Math.Round(scaled)) < 1e-6)
            {
                return decimals;
            }
        }

        return 3;
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text);
}
