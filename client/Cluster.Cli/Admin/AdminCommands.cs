using System.Globalization;
using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>The admin commands and their dispatch; each command reads and steers the cluster through <see cref="IClusterAdminGrain"/>.</summary>
public static class AdminCommands
{
    private static readonly Dictionary<string, Func<IClusterAdminGrain, CliArguments, IAnsiConsole, CancellationToken,
        Task<int>>> Commands = new(StringComparer.Ordinal)
    {
        ["status"] = (admin, args, console, _) => StatusCommand.RunAsync(admin, args, console),
        ["devices"] = (admin, args, console, _) => DevicesCommand.RunAsync(admin, args, console),
        ["model"] = (admin, args, console, _) => ModelCommand.RunAsync(admin, args, console),
        ["load"] = (admin, args, console, _) => LoadCommand.RunAsync(admin, args, console, load: true),
        ["warmup"] = (admin, args, console, _) => LoadCommand.RunAsync(admin, args, console, load: false),
        ["unload"] = (admin, args, console, _) => UnloadCommand.RunAsync(admin, args, console),
        ["split"] = (admin, args, console, _) => SplitCommand.RunAsync(admin, args, console),
        ["policy"] = (admin, args, console, _) => PolicyCommand.RunAsync(admin, args, console),
        ["scale"] = (admin, args, console, _) => ScaleCommand.RunAsync(admin, args, console),
        ["quantize"] = (admin, args, console, _) => QuantizeCommand.RunAsync(admin, args, console),
        ["experiment"] = (admin, args, console, _) => ExperimentCommand.RunAsync(admin, args, console),
        ["drain"] = (admin, args, console, _) => DrainCommand.RunAsync(admin, args, console, draining: true),
        ["undrain"] = (admin, args, console, _) => DrainCommand.RunAsync(admin, args, console, draining: false),
        ["top"] = TopCommand.RunAsync,
    };

    /// <summary>Whether <paramref name="command"/> is an admin command.</summary>
    public static bool Handles(string command) => Commands.ContainsKey(command);

    /// <summary>Runs an admin command.</summary>
    public static Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        return Commands[args.Command](admin, args, console, cancellationToken);
    }

    /// <summary>The single positional argument (a model or silo name); throws a usage error naming <paramref name="usage"/> otherwise.</summary>
    public static string Subject(CliArguments args, string usage, int atLeast = 1, int atMost = 1)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Positional.Count >= atLeast && args.Positional.Count <= atMost
            ? args.Positional[0]
            : throw new UsageException("Usage: " + usage);
    }

    /// <summary>An integer option, or null when absent.</summary>
    public static long? Number(CliArguments args, string option)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Value(option) is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
                : throw new UsageException($"{option} '{text}' is not a whole number.")
            : null;
    }
}
