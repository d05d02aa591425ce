using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>Reads <c>autoscaling</c>: <c>target_queue_per_replica</c>, <c>upscale_delay_s</c>, <c>downscale_delay_s</c>.</summary>
internal static class AutoscalingReader
{
    private const string Known = "target_queue_per_replica, upscale_delay_s, downscale_delay_s";

    /// <summary>A day: the longest an autoscaler may wait before acting.</summary>
    private const double MaxDelaySeconds = 86_400;

    public static AutoscalingConfig Read(string file, JsonElement value)
    {
        var config = new AutoscalingConfig();
        foreach (var property in ConfigFields.Object(file, "autoscaling", value).EnumerateObject())
        {
            var field = "autoscaling." + property.Name;
            config = property.Name switch
            {
                "target_queue_per_replica" => config with { TargetQueuePerReplica = Positive(file, field, property.Value) },
                "upscale_delay_s" =>
                    config with { UpscaleDelay = TimeSpan.FromSeconds(ConfigFields.Double(file, field, property.Value, min: 0, max: MaxDelaySeconds)) },
                "downscale_delay_s" =>
                    config with { DownscaleDelay = TimeSpan.FromSeconds(ConfigFields.Double(file, field, property.Value, min: 0, max: MaxDelaySeconds)) },
                _ => throw ConfigFields.Unknown(file, field, Known),
            };
        }

        return config;
    }

    private static double Positive(string file, string field, JsonElement value)
    {
        var number = ConfigFields.Double(file, field, value, min: 0, max: 1_000_000);
        return number > 0 ? number : throw new ModelConfigException(file, field, "must be above 0");
    }
}
