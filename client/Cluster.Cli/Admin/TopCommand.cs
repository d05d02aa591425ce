using System.Globalization;
using Cluster.Contracts.Admin;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Cli.Admin;

/// <summary>
/// <c>top [--interval s] [--iterations N]</c>: silos, devices and model versions, refreshed in place on a
/// terminal (printed one frame after another otherwise) until Ctrl-C or the given number of frames.
/// </summary>
public static class TopCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var iterations = AdminCommands.Number(args, "--iterations");
        var interval = args.Value("--interval") is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? TimeSpan.FromSeconds(s)
                : throw new UsageException($"--interval '{text}' is not a positive number of seconds.")
            : TimeSpan.FromSeconds(1);
        try
        {
            if (console.Profile.Capabilities.Interactive)
            {
                await console.Live(new Text("Reading the cluster...")).StartAsync(async live =>
                {
                    for (var frame = 1L; iterations is null || frame <= iterations; frame++)
                    {
                        live.UpdateTarget(await FrameAsync(admin, frame));
                        await Task.Delay(interval, cancellationToken);
                    }
                });
            }
            else
            {
                for (var frame = 1L; iterations is null || frame <= iterations; frame++)
                {
                    console.Write(await FrameAsync(admin, frame));
                    if (iterations is null || frame < iterations)
                    {
                        await Task.Delay(interval, cancellationToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: the live view ends and the command succeeds.
        }

        return 0;
    }

    private static async Task<IRenderable> FrameAsync(IClusterAdminGrain admin, long frame)
    {
        var status = admin.GetStatusAsync();
        var devices = admin.GetDevicesAsync();
        var models = admin.GetModelsAsync();
        var silos = (await status).Silos;
        var views = (await models).Where(m => m.Model.Error is null).ToArray();
        var header = $"cluster top - {DateTime.UtcNow:HH:mm:ss} UTC - frame {frame} - {silos.Count(s => s.State == "Active")} active silo(s), draining: " +
            (silos.Any(s => s.Draining) ? string.Join(", ", silos.Where(s => s.Draining).Select(s => s.Name)) : "none");
        IRenderable[] rows = [new Text(header), ClusterTables.Silos(await status), ClusterTables.Devices(await devices), ClusterTables.Versions(views)];
        rows = ClusterTables.Generation(views) is { } generation ? [.. rows, generation] : rows;
        return new Rows(ExperimentText.Running(views) is { } experiments ? [.. rows, experiments] : rows);
    }
}
