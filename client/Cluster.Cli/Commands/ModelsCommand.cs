using System.Text.Json;
using Cluster.Cli.Admin;
using Cluster.Client;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Models;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>models [--json]</c>: every model with its versions, inputs and outputs; through a gateway also each
/// version's state, split share, replica and traffic (from the admin API).
/// </summary>
public static class ModelsCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(InferenceClient client, CliArguments args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var views = client.Grains is { } grains ? await grains.GetGrain<IClusterAdminGrain>(0).GetModelsAsync() : null;
        var models = views?.Select(v => v.Model).ToArray() ?? await client.GetModelsAsync();
        if (args.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(models.Select(m => ToJson(m, Array.Find(views ?? [], v => v.Model.Name == m.Name))), CliJson.Options));
            return 0;
        }

        foreach (var model in models)
        {
            output.WriteLine(model.Error is null
                ? $"{model.Name}  (max_batch_size {model.Config.MaxBatchSize}, served " +
                    $"versions: {string.Join(", ", model.ServedVersions.Select(v => v.Version))})"
                : $"{model.Name}  UNAVAILABLE: {model.Error}");
            var view = Array.Find(views ?? [], v => v.Model.Name == model.Name);
            foreach (var version in model.Versions)
            {
                if (!version.IsLoadable)
                {
                    output.WriteLine($"  v{version.Version}  FAILED: {version.Error}");
                    continue;
                }

                output.WriteLine($"  v{version.Version}{State(view?.Versions.FirstOrDefault(v => v.Version == version.Version))}");
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

    /// <summary>A version's state and traffic after its number, e.g. <c>  READY  split 90 %  on a/cpu:0  queue 0  2.0 req/s  p50 0.31 ms  p99 1.20 ms  batches
    /// 1x20</c>.</summary>
    private static string State(VersionView? version)
    {
        if (version is null)
        {
            return "";
        }

        var text = version.Ready ? "  READY" : $"  UNAVAILABLE ({version.Reason})";
        if (version.SplitPercent is { } split)
        {
            text += $"  split {split} %";
        }

        foreach (var replica in version.Replicas)
        {
            text += replica.Error is { } error
                ? $"  replica error: {error}"
                : $"  on {replica.Device ?? replica.Silo + " (starting)"}  queue {replica.Queued}  {AdminConsole.Number(replica.RequestsPerSecond)} req/s  " +
                  $"p50 {AdminConsole.Number(replica.P50Ms, "0.00")} ms  p99 {AdminConsole.Number(replica.P99Ms, "0.00")} ms  " +
                      $"batches {ClusterTables.BatchMix(replica.BatchSizes)}";
        }

        return text;
    }

    private static object ToJson(ModelDescriptor model, ModelView? view) => new
    {
        name = model.Name,
        error = model.Error,
        max_batch_size = model.Config.MaxBatchSize,
        served_versions = model.ServedVersions.Select(v => v.Version),
        unloaded = model.Unloaded,
        traffic_split = model.TrafficSplit.Select(w => new { version = w.Version, percent = w.Percent }),
        min_replicas = model.Config.MinReplicas,
        max_replicas = model.Config.MaxReplicas,
        versions = model.Versions.Select(v =>
        {
            var state = view?.Versions.FirstOrDefault(s => s.Version == v.Version);
            return new
            {
                version = v.Version,
                error = v.Error,
                inputs = v.Inputs.Select(CliJson.Spec),
                outputs = v.Outputs.Select(CliJson.Spec),
                state = state is null ? null : state.Ready ? "READY" : "UNAVAILABLE",
                reason = state?.Reason,
                split_percent = state?.SplitPercent,
                replicas = state?.Replicas.Select(r => new
                {
                    key = r.Key,
                    silo = r.Silo,
                    device = r.Device,
                    ready = r.Ready,
                    queued = r.Queued,
                    requests_per_second = r.RequestsPerSecond,
                    p50_ms = r.P50Ms,
                    p99_ms = r.P99Ms,
                    batch_sizes = r.BatchSizes.Select(b => new { batch_size = b.BatchSize, batches = b.Batches }),
                }),
            };
        }),
    };
}
