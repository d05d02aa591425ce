namespace Cluster.Cli;

/// <summary>Parsed command line: a command, its positional arguments and its <c>--name value</c> options (repeatable).</summary>
public sealed class CliArguments
{
    private static readonly string[] Flags = ["--json", "--help", "--force", "--int8", "--fp16"];

    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);

    private CliArguments(string command, List<string> positional)
    {
        Command = command;
        Positional = positional;
    }

    /// <summary>The command word (<c>models</c>, <c>infer</c>, ...), or empty.</summary>
    public string Command { get; }

    /// <summary>Positional arguments after the command.</summary>
    public IReadOnlyList<string> Positional { get; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="UsageException"/> on an option without its value.</summary>
    public static CliArguments Parse(string[] args)
    {
        var positional = new List<string>();
        var options = new List<(string, string)>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
            }
            else if (Flags.Contains(arg))
            {
                options.Add((arg, "true"));
            }
            else if (i + 1 < args.Length)
            {
                options.Add((arg, args[++i]));
            }
            else
            {
                throw new UsageException($"Option {arg} needs a value.");
            }
        }

        var parsed = new CliArguments(positional.Count > 0 ? positional[0] : "", positional.Skip(1).ToList());
        foreach (var (name, value) in options)
        {
            if (!parsed._options.TryGetValue(name, out var values))
            {
                parsed._options[name] = values = [];
            }

            values.Add(value);
        }

        return parsed;
    }

    /// <summary>Every value given for an option.</summary>
    public IReadOnlyList<string> All(string name) => _options.TryGetValue(name, out var values) ? values : [];

    /// <summary>The last value given for an option, or null.</summary>
    public string? Value(string name) => _options.TryGetValue(name, out var values) ? values[^1] : null;

    /// <summary>Whether a flag was given.</summary>
    public bool Has(string name) => _options.ContainsKey(name);
}

/// <summary>The command line is wrong; the message says how.</summary>
public sealed class UsageException(string message) : Exception(message);
