using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>status [--json]</c>: the silos with their state, metadata and drain flag.</summary>
public static class StatusCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var status = await admin.GetStatusAsync();
        if (args.Has("--json"))
        {
            console.WriteJson(status);
            return 0;
        }

        Write(console, status);
        return 0;
    }

    /// <summary>A summary line and the silos table.</summary>
    public static void Write(IAnsiConsole console, ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var active = status.Silos.Count(s => s.State == "Active");
        var draining = status.Silos.Where(s => s.Draining).Select(s => s.Name).ToArray();
        console.Line($"{active} active silo(s) of {status.Silos.Length}; draining: {(draining.Length == 0 ? "none" : string.Join(", ", draining))}");
        console.Write(ClusterTables.Silos(status));
    }
}
