using System.Text.Json;
using Cluster.Client;
using Cluster.Contracts.Models;

namespace Cluster.Cli.Commands;

/// <summary><c>models [--json]</c>: every model with its versions, inputs and outputs.</summary>
public static class ModelsCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(InferenceClient client, CliArguments args, TextWriter output)
    {
        var models = await client.GetModelsAsync();
        if (args.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(models.Select(ToJson), CliJson.Options));
            return 0;
        }

        foreach (var model in models)
        {
            output.WriteLine(model.Error is null
                ? $"{model.Name}  (max_batch_size {model.Config.MaxBatchSize}, served versions: {string.Join(", ", model.ServedVersions.Select(v => v.Version))})"
                : $"{model.Name}  UNAVAILABLE: {model.Error}");
            foreach (var version in model.Versions)
            {
                if (!version.IsLoadable)
                {
                    output.WriteLine($"  v{version.Version}  FAILED: {version.Error}");
                    continue;
                }

                output.WriteLine($"  v{version.Version}");
                foreach (var input in version.Inputs)
                {
                    output.WriteLine($"    input   {input}");
                }

                foreach (var outputSpec in version.Outputs)
                {
                    output.WriteLine($"    output  {outputSpec}");
                }
            }
        }

        return 0;
    }

    private static object ToJson(ModelDescriptor model) => new
    {
        name = model.Name,
        error = model.Error,
        max_batch_size = model.Config.MaxBatchSize,
        served_versions = model.ServedVersions.Select(v => v.Version),
        versions = model.Versions.Select(v => new
        {
            version = v.Version,
            error = v.Error,
            inputs = v.Inputs.Select(CliJson.Spec),
            outputs = v.Outputs.Select(CliJson.Spec),
        }),
    };
}
