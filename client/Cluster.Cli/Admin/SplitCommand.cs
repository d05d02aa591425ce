using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Models;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>split &lt;model&gt; 1=90 2=10 | off</c>: shares the requests that name no version between served versions.</summary>
public static class SplitCommand
{
    private const string Usage = "split <model> <version>=<percent>... (e.g. split tiny_classifier 1=90 2=10), or split <model> off";

    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var name = AdminCommands.Subject(args, Usage, atLeast: 2, atMost: int.MaxValue);
        var split = args.Positional is [_, "off"] ? [] : args.Positional.Skip(1).Select(Parse).ToArray();
        var model = await admin.SetTrafficSplitAsync(name, split);
        ModelCommand.Write(console, model, args.Has("--json"));
        return 0;
    }

    private static VersionWeight Parse(string text)
    {
        var parts = text.Split('=');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent)
            ? new VersionWeight { Version = version, Percent = percent }
            : throw new UsageException($"'{text}' is not <version>=<percent>. Usage: {Usage}");
    }
}
