using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>unload &lt;model&gt; [--version N] [--force]</c>: stops serving a model or one version.</summary>
public static class UnloadCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var name = AdminCommands.Subject(args, "unload <model> [--version N] [--force]");
        var model = await admin.UnloadAsync(name, AdminCommands.Number(args, "--version"), args.Has("--force"));
        ModelCommand.Write(console, model, args.Has("--json"));
        return 0;
    }
}
