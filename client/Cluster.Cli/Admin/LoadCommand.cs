using System.Diagnostics;
using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>
/// <c>load &lt;model&gt; [--version N]</c> serves a model (or adds a version) and warms it up;
/// <c>warmup &lt;model&gt; [--version N]</c> only warms. Each version's replica shows its progress and the device it warmed on.
/// </summary>
public static class LoadCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console, bool load)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(console);
        var name = AdminCommands.Subject(args, $"{(load ? "load" : "warmup")} <model> [--version N]");
        var version = AdminCommands.Number(args, "--version");
        var model = load ? await admin.LoadAsync(name, version) : await admin.GetModelAsync(name);
        var versions = model.Versions.Where(v => v.Ready && (version is null || v.Version == version)).Select(v => v.Version).ToArray();
        if (versions.Length == 0)
        {
            console.Line($"{name}: no served version to warm up.");
            return load ? 0 : 1;
        }

        var warmed = new List<string>();
        if (console.Profile.Capabilities.Interactive)
        {
            await console.Progress()
                .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
                .StartAsync(async context => await Task.WhenAll(versions.Select(async v =>
                {
                    var task = context.AddTask(Markup.Escape($"{name} v{v}: loading and warming up")).IsIndeterminate();
                    var line = await WarmAsync(admin, name, v);
                    task.Description = Markup.Escape(line);
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    warmed.Add(line);
                })));
        }
        else
        {
            foreach (var v in versions)
            {
                console.Line($"{name} v{v}: loading and warming up");
                warmed.Add(await WarmAsync(admin, name, v));
            }
        }

        foreach (var line in warmed.Order(StringComparer.Ordinal))
        {
            console.Line(line);
        }

        return warmed.Exists(l => l.Contains(" failed", StringComparison.Ordinal)) ? 1 : 0;
    }

    private static async Task<string> WarmAsync(IClusterAdminGrain admin, string model, long version)
    {
        var stopwatch = Stopwatch.StartNew();
        var replicas = await admin.WarmAsync(model, version);
        var seconds = AdminConsole.Number(stopwatch.Elapsed.TotalSeconds, "0.00");
        return string.Join(Environment.NewLine, replicas.Select(r => r.Error is { } error
            ? $"{model} v{version}: replica {r.Key} failed: {error}"
            : $"{model} v{version}: replica {r.Key} warm on {r.Device} in {seconds} s"));
    }
}
