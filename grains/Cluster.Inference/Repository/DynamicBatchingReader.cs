using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>Reads Triton's <c>dynamic_batching</c> object, including its <c>default_queue_policy</c>.</summary>
internal static class DynamicBatchingReader
{
    private const string Known =
        "preferred_batch_size, max_queue_delay_microseconds, preserve_ordering, priority_levels, default_priority_level, default_queue_policy";
    private const string KnownPolicy = "timeout_action, default_timeout_microseconds, allow_timeout_override, max_queue_size";

    public static DynamicBatchingConfig Read(string file, JsonElement value)
    {
        const string Field = "dynamic_batching";
        var config = new DynamicBatchingConfig();
        foreach (var property in ConfigFields.Object(file, Field, value).EnumerateObject())
        {
            var path = $"{Field}.{property.Name}";
            config = property.Name switch
            {
                "preferred_batch_size" or "preferred_batch_sizes" => config with
                {
                    PreferredBatchSizes =
                        [.. ConfigFields.Array(file, path, property.Value).EnumerateArray()
                            .Select(v => ConfigFields.Int(file, path, v, min: 1, max: ModelConfigReader.MaxBatchSize))],
                },
                "max_queue_delay_microseconds" =>
                    config with { MaxQueueDelayMicroseconds = ConfigFields.Long(file, path, property.Value, min: 0, max: 60_000_000) },
                "preserve_ordering" => config with { PreserveOrdering = ConfigFields.Bool(file, path, property.Value) },
                "priority_levels" => config with { PriorityLevels = ConfigFields.Int(file, path, property.Value, min: 0, max: 1_000) },
                "default_priority_level" => config with { DefaultPriorityLevel = ConfigFields.Int(file, path, property.Value, min: 0, max: 1_000) },
                "default_queue_policy" => ReadPolicy(file, path, property.Value, config),
                _ => throw ConfigFields.Unknown(file, path, Known),
            };
        }

        if (config.PriorityLevels > 0 && (config.DefaultPriorityLevel < 1 || config.DefaultPriorityLevel > config.PriorityLevels))
        {
            throw new ModelConfigException(
                file, $"{Field}.default_priority_level", $"must be between 1 and priority_levels ({config.PriorityLevels}), got {config.DefaultPriorityLevel}");
        }

        return config;
    }

    /// <summary>Checks the settings that depend on <c>max_batch_size</c>.</summary>
    public static void Validate(string file, DynamicBatchingConfig config, int maxBatchSize)
    {
        foreach (var size in config.PreferredBatchSizes)
        {
            if (size > Math.Max(1, maxBatchSize))
            {
                throw new ModelConfigException(file, "dynamic_batching.preferred_batch_size", $"has {size}, above max_batch_size {maxBatchSize}");
            }
        }
    }

    private static DynamicBatchingConfig ReadPolicy(string file, string field, JsonElement value, DynamicBatchingConfig config)
    {
        foreach (var property in ConfigFields.Object(file, field, value).EnumerateObject())
        {
            var path = $"{field}.{property.Name}";
            config = property.Name switch
            {
                "timeout_action" => config with
                {
                    TimeoutAction = ConfigFields.String(file, path, property.Value) switch
                    {
                        "REJECT" => TimeoutAction.Reject,
                        "DELAY" => TimeoutAction.Delay,
                        var other => throw new ModelConfigException(file, path, $"must be \"REJECT\" or \"DELAY\", got \"{other}\""),
                    },
                },
                "default_timeout_microseconds" =>
                    config with { DefaultTimeoutMicroseconds = ConfigFields.Long(file, path, property.Value, min: 0, max: 3_600_000_000) },
                "allow_timeout_override" => config with { AllowTimeoutOverride = ConfigFields.Bool(file, path, property.Value) },
                "max_queue_size" => config with { MaxQueueSize = ConfigFields.Int(file, path, property.Value, min: 0, max: 1_000_000) },
                _ => throw ConfigFields.Unknown(file, path, KnownPolicy),
            };
        }

        return config;
    }
}
