using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cluster.Deploy.Tests;

/// <summary>What the checks need from a Dockerfile: the final stage's ENV, EXPOSE, USER, HEALTHCHECK and ENTRYPOINT.</summary>
public sealed partial class DockerfileModel
{
    /// <summary>Environment of the final stage, in order.</summary>
    public Dictionary<string, string> Environment { get; } = [];

    public List<int> ExposedPorts { get; } = [];

    public string? User { get; private set; }

    /// <summary>The URL the HEALTHCHECK command fetches, if any.</summary>
    public Uri? HealthCheckUrl { get; private set; }

    /// <summary>The exec-form ENTRYPOINT.</summary>
    public IReadOnlyList<string> Entrypoint { get; private set; } = [];

    /// <summary>Parses the instructions (continuation lines joined); later stages replace earlier ones.</summary>
    public static DockerfileModel Parse(string text)
    {
        var model = new DockerfileModel();
        foreach (var line in Instructions(text))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var (instruction, arguments) = space < 0 ? (line, "") : (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            switch (instruction)
            {
                case "FROM":
                    model = new DockerfileModel();
                    break;
                case "ENV":
                    foreach (Match pair in EnvPair().Matches(arguments))
                    {
                        model.Environment[pair.Groups[1].Value] = pair.Groups[2].Value.Trim('"');
                    }

                    break;
                case "EXPOSE":
                    model.ExposedPorts.AddRange(arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case "USER":
                    model.User = arguments;
                    break;
                case "HEALTHCHECK":
                    model.HealthCheckUrl = Url().Match(arguments) is { Success: true } url ? new Uri(url.Value) : null;
                    break;
                case "ENTRYPOINT":
                    model.Entrypoint = arguments.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(arguments)! : [arguments];
                    break;
            }
        }

        return model;
    }

    private static IEnumerable<string> Instructions(string text)
    {
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1] + " ";
                continue;
            }

            yield return current + line;
            current = "";
        }
    }

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S*)")]
    private static partial Regex EnvPair();

    [GeneratedRegex(@"https?://[^\s""']+")]
    private static partial Regex Url();
}
