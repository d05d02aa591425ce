using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>Writes a scenario's results: fixed-width text tables for the console, JSON and SVG files under artifacts/bench.</summary>
public static class BenchReport
{
    // A figure no reading could give (every slice's reading left out) is written as "NaN", not a failed report.
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Formats rows as a fixed-width table under <paramref name="headers"/>: the first column left-aligned,
    /// the others right-aligned, each as wide as its widest cell.
    /// </summary>
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
        {
            for (var c = 0; c < row.Count; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        var text = new StringBuilder();
        for (var r = 0; r < all.Count; r++)
        {
            text.Append("  ");
            for (var c = 0; c < all[r].Count; c++)
            {
                var cell = all[r][c];
                text.Append(c == 0 ? cell.PadRight(widths[c]) : "  " + cell.PadLeft(widths[c]));
            }

            text.AppendLine();
            if (r == 0)
            {
                text.Append("  ").AppendLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            }
        }

        return text.ToString();
    }

    /// <summary>A number with thousands separators and <paramref name="decimals"/> decimals, culture-independent.</summary>
    public static string Number(double value, int decimals = 0) =>
        value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="results"/> as indented JSON to artifacts/bench/<paramref name="fileName"/>; returns the path.</summary>
    public static string WriteJson<T>(string repositoryRoot, string fileName, T results)
    {
        var path = Path.Combine(RepositoryRoot.Artifacts(repositoryRoot), fileName);
        File.WriteAllText(path, JsonSerializer.Serialize(results, JsonOptions) + Environment.NewLine);
        return path;
    }

    /// <summary>Writes <paramref name="content"/> to artifacts/bench/<paramref name="fileName"/>; returns the path.</summary>
    public static string WriteText(string repositoryRoot, string fileName, string content)
    {
        var path = Path.Combine(RepositoryRoot.Artifacts(repositoryRoot), fileName);
        File.WriteAllText(path, content);
        return path;
    }
}
