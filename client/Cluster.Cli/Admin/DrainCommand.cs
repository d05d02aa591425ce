using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>drain &lt;silo&gt;</c> / <c>undrain &lt;silo&gt;</c>: stop or resume placing new model replicas on a silo.</summary>
public static class DrainCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console, bool draining)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var silo = AdminCommands.Subject(args, $"{(draining ? "drain" : "undrain")} <silo>");
        var status = await admin.SetDrainingAsync(silo, draining);
        if (args.Has("--json"))
        {
            console.WriteJson(status);
            return 0;
        }

        console.Line(draining
            ? $"Silo {silo} is draining: new model replicas are placed on other silos; replicas already on it keep serving."
            : $"Silo {silo} takes new model replicas again.");
        StatusCommand.Write(console, status);
        return 0;
    }
}
