using System.Globalization;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cluster.Cli.Admin;

/// <summary>The admin views as tables; shared by the one-shot commands and <c>top</c>.</summary>
public static class ClusterTables
{
    /// <summary>Silos: name, state, address, host, start, drain flag, metadata.</summary>
    public static Table Silos(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var table = New("Silo", "State", "Draining", "Address", "Host", "Started (UTC)", "Metadata");
        foreach (var silo in status.Silos)
        {
            Row(table, silo.Name, silo.State, silo.Draining ? "yes" : "no", silo.Address, silo.HostName,
                silo.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                silo.Metadata.Count == 0 ? "-"
                    : string.Join(", ", silo.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
        }

        return table;
    }

    /// <summary>Devices: key, kind, health, memory (and where the figure comes from), busy, configured and measured speed, loaded models.</summary>
    public static Table Devices(IEnumerable<DeviceView> devices)
    {
        var table = New("Device", "Kind", "Health", "Memory used / total", "Busy", "Speed (configured)", "Measured items/s", "Loaded models");
        foreach (var device in devices)
        {
            var status = device.Status;
            var kind = status.ComputeCapability is { } capability ? $"{status.Kind} (cc {capability})" : status.Kind;
            Row(table, status.Key, kind, status.HealthReason is null ? status.Health.ToString() : $"{status.Health}: {status.HealthReason}",
                $"{AdminConsole.Bytes(status.MemoryUsedBytes)} / {(status.MemoryTotalBytes > 0 ? AdminConsole.Bytes(status.MemoryTotalBytes) : "?")} " +
                    $"({status.MemorySource})",
                AdminConsole.Number(device.BusyFraction * 100) + " %",
                AdminConsole.Number(status.Speed, "0.##"),
                status.MeasuredItemsPerSecond.Count == 0 ? "-"
                    : string.Join(", ", status.MeasuredItemsPerSecond.OrderBy(p => p.Key, StringComparer.Ordinal)
                        .Select(p => $"{p.Key} {AdminConsole.Number(p.Value)}")),
                status.LoadedModels.Length == 0 ? "-"
                    : string.Join(", ", status.LoadedModels.Select(m => status.Variants.TryGetValue(m, out var variant) ? $"{m} ({variant})" : m)));
        }

        return table;
    }

    /// <summary>One row per replica of each model version (one row for a version without replicas): state, split share, placement and traffic.</summary>
    public static Table Versions(IEnumerable<ModelView> models)
    {
        var table = New("Model", "Version", "State", "Split", "Replica on", "Queue", "Req/s", "p50 ms", "p99 ms", "OK / failed", "Batch sizes");
        foreach (var model in models)
        {
            foreach (var version in model.Versions)
            {
                foreach (var replica in version.Replicas.DefaultIfEmpty())
                {
                    Row(table, model.Model.Name, version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        version.Ready ? "READY" : $"UNAVAILABLE: {version.Reason}",
                        version.SplitPercent is { } split ? $"{split} %" : "-",
                        replica is null ? "-" : replica.Error is { } error ? $"error: {error}" : replica.Device is { } on
                            ? $"{on} ({replica.Variant})" : $"{replica.Silo} (starting)",
                        replica is null ? "-" : replica.Queued.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        replica is null ? "-" : AdminConsole.Number(replica.RequestsPerSecond),
                        replica is null ? "-" : AdminConsole.Number(replica.P50Ms, "0.00"),
                        replica is null ? "-" : AdminConsole.Number(replica.P99Ms, "0.00"),
                        replica is null ? "-" : $"{replica.Succeeded} / {replica.Failed}",
                        replica is null ? "-" : BatchMix(replica.BatchSizes));
                }
            }
        }

        return table;
    }

    /// <summary>
    /// Generation replicas' engines: sequences running and waiting, KV cache use, tokens, throughput, latencies,
    /// prefix cache hits and requests finished by reason; null when no replica generates.
    /// </summary>
    public static Table? Generation(IEnumerable<ModelView> models)
    {
        var table = New("Replica", "Running", "Waiting", "KV cache", "Tokens in / out", "Tok/s", "TTFT p50 / p99 ms", "ITL p50 / p99 ms", "Prefix hits",
            "Finished", "Preempted");
        var any = false;
        foreach (var replica in models.SelectMany(m => m.Versions).SelectMany(v => v.Replicas))
        {
            if (replica.Generation is not { } g)
            {
                continue;
            }

            any = true;
            Row(table, replica.Key, g.Running.ToString(CultureInfo.InvariantCulture), g.Waiting.ToString(CultureInfo.InvariantCulture),
                $"{g.KvCacheUsage * 100:0.0} % of {g.KvCacheBytes / (1 << 20)} MiB",
                $"{g.PromptTokens} / {g.GeneratedTokens}",
                AdminConsole.Number(replica.TokensPerSecond),
                $"{AdminConsole.Number(g.TimeToFirstTokenP50Ms, "0.0")} / {AdminConsole.Number(g.TimeToFirstTokenP99Ms, "0.0")}",
                $"{AdminConsole.Number(g.InterTokenP50Ms, "0.0")} / {AdminConsole.Number(g.InterTokenP99Ms, "0.0")}",
                g.PrefixCacheQueries > 0 ? AdminConsole.Number(100.0 * g.PrefixCacheHits / g.PrefixCacheQueries, "0.0") + " %" : "-",
                Finished(g),
                g.Preemptions.ToString(CultureInfo.InvariantCulture));
        }

        return any ? table : null;
    }

    /// <summary>Requests finished per reason, then failed, e.g. <c>length 12 stop 3 failed 0</c>.</summary>
    private static string Finished(GenerationReplicaStatistics generation) =>
        string.Concat(generation.Finished.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value} ")) + $"failed {generation.Failed}";

    /// <summary>A model's serving settings on one line: batch size, policy, split and replica bounds.</summary>
    public static string Settings(ModelDescriptor model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var policy = model.Config.VersionPolicy;
        var policyText = policy.Kind switch
        {
            VersionPolicyKind.All => "all",
            VersionPolicyKind.Specific => "specific " + string.Join(",", policy.Versions),
            _ => $"latest {policy.LatestCount}",
        };
        return $"{model.Name}: {(model.Unloaded ? "unloaded" : model.Error is { } error ? "failed: " + error : "loaded")}, " +
            $"max_batch_size {model.Config.MaxBatchSize}, " +
            $"version policy {policyText}, traffic split {TrafficSplit.Format(model.TrafficSplit)}, replicas min {model.Config.MinReplicas} " +
                $"max {model.Config.MaxReplicas}" +
            (model.Experiment is { } experiment ? $", experiment {experiment.Id}" : "");
    }

    /// <summary>Batches per size, e.g. <c>1x120 4x30 8x5</c>.</summary>
    public static string BatchMix(IEnumerable<BatchCount> batches)
    {
        var text = string.Join(" ", batches.Select(b => $"{b.BatchSize}x{b.Batches}"));
        return text.Length == 0 ? "-" : text;
    }

    private static Table New(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(new Text(column)));
        }

        return table;
    }

    private static void Row(Table table, params string[] cells) => table.AddRow(cells.Select(c => (IRenderable)new Text(c)).ToArray());
}
