using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>
/// <c>scale &lt;model&gt; [--min N] [--max M]</c>: stores a model's replica bounds. They are kept for the
/// autoscaler; today every served version runs one replica whatever the bounds.
/// </summary>
public static class ScaleCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var name = AdminCommands.Subject(args, "scale <model> [--min N] [--max M]");
        var min = AdminCommands.Number(args, "--min");
        var max = AdminCommands.Number(args, "--max");
        if (min is null && max is null)
        {
            throw new UsageException("Usage: scale <model> [--min N] [--max M] (at least one of them)");
        }

        var config = (await admin.GetModelAsync(name)).Model.Config;
        var model = await admin.SetReplicaBoundsAsync(name, (int)(min ?? config.MinReplicas), (int)(max ?? config.MaxReplicas));
        ModelCommand.Write(console, model, args.Has("--json"));
        if (!args.Has("--json"))
        {
            console.Line("Replica bounds are stored for the autoscaler, which keeps each served version's replica count between them.");
        }

        return 0;
    }
}
