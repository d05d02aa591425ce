using Cluster.Contracts.Admin;
using Spectre.Console;

namespace Cluster.Cli.Admin;

/// <summary>
/// <c>quantize &lt;model&gt; [--version N] --int8|--fp16 [--json]</c>: writes the INT8 or FP16 variant of a served model's FP32
/// file into each silo's repository and prints its accuracy against FP32 (largest absolute difference, top-1 agreement).
/// </summary>
public static class QuantizeCommand
{
    private const string Usage = "quantize <model> [--version N] --int8|--fp16 [--json]";

    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(IClusterAdminGrain admin, CliArguments args, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(args);
        var name = AdminCommands.Subject(args, Usage);
        var variant = (args.Has("--int8"), args.Has("--fp16")) switch
        {
            (true, false) => "int8",
            (false, true) => "fp16",
            _ => throw new UsageException($"Usage: {Usage} (exactly one of --int8 and --fp16)"),
        };
        var reports = await admin.QuantizeAsync(name, AdminCommands.Number(args, "--version"), variant);
        if (args.Has("--json"))
        {
            console.WriteJson(reports);
            return 0;
        }

        foreach (var r in reports)
        {
            console.Line(
                $"{r.Model} v{r.Version} {r.Variant} on {r.Silo}: {r.File} ({AdminConsole.Bytes(r.VariantBytes)}, FP32 {AdminConsole.Bytes(r.Fp32Bytes)}), "
                + $"{r.ConvertedNodes} node(s) converted");
            console.Line(
                $"  against FP32 on {r.Samples} {(r.Inputs == "warmup" ? "warm-up" : "random")} samples: "
                + $"max abs difference {AdminConsole.Number(r.MaxAbsDifference, "G3")}, "
                + $"top-1 agreement {AdminConsole.Number(r.Top1Agreement, "0.0000")}; report in {r.File}.report.json");
        }

        console.Line("Replicas started from now on load it where their device prefers it (cluster unload and load restart them).");
        return 0;
    }
}
