using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Models;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>policy &lt;model&gt; latest N | all | specific 1,3</c>: which versions a model serves.</summary>
public static class PolicyCommand
{
    private const string Usage = "policy <model> latest N | all | specific 1,3";

    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var name = AdminCommands.Subject(args, Usage, atLeast: 2, atMost: 3);
        var policy = args.Positional.Skip(1).ToArray() switch
        {
            ["all"] => VersionPolicy.All(),
            ["latest", var count] when int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => VersionPolicy.Latest(n),
            ["specific", var list] =>
                VersionPolicy.Specific(list.Split(',').Select(v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n
                : throw new UsageException($"'{v}' is not a version number. Usage: {Usage}")).ToArray()),
            _ => throw new UsageException("Usage: " + Usage),
        };
        var model = await admin.SetVersionPolicyAsync(name, policy);
        ModelCommand.Write(console, model, args.Has("--json"));
        return 0;
    }
}
