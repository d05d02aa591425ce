using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>devices [--json]</c>: every device of every active silo.</summary>
public static class DevicesCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var devices = await admin.GetDevicesAsync();
        if (args.Has("--json"))
        {
            console.WriteJson(devices);
            return 0;
        }

        console.Write(ClusterTables.Devices(devices));
        return 0;
    }
}
