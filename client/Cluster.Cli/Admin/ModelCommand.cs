using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary><c>model &lt;model&gt; [--json]</c>: one model's settings and each version's state, replica and traffic.</summary>
public static class ModelCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var model = await admin.GetModelAsync(AdminCommands.Subject(args, "model <model> [--json]"));
        Write(console, model, args.Has("--json"));
        return 0;
    }

    /// <summary>The model as JSON, or its settings line and versions table.</summary>
    public static void Write(IAnsiConsole console, ModelView model, bool json)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (json)
        {
            console.WriteJson(model);
            return;
        }

        console.Line(ClusterTables.Settings(model.Model));
        console.Write(ClusterTables.Versions([model]));
        if (ClusterTables.Generation([model]) is { } generation)
        {
            console.Write(generation);
        }
        foreach (var replica in model.Versions.SelectMany(v => v.Replicas).Where(r => r.Tokens.Real > 0))
        {
            console.Line(
                string.Create(
                    System.Globalization.CultureInfo.InvariantCulture, $"{replica.Key}: {replica.Tokens.Real} tokens " +
                        $"run, {replica.Tokens.PaddingFraction:P1} of positions padding"));
        }
    }
}
