using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>Reads <c>cuda</c>: <c>memory_limit_bytes</c>, <c>arena_extend_strategy</c>, <c>cudnn_conv_algo_search</c>, <c>copy_in_default_stream</c>,
/// <c>cuda_graph</c>.</summary>
internal static class CudaProviderReader
{
    private const string Known = "memory_limit_bytes, arena_extend_strategy, cudnn_conv_algo_search, copy_in_default_stream, cuda_graph";

    public static CudaProviderSettings Read(string file, JsonElement value, int maxBatchSize)
    {
        var settings = new CudaProviderSettings();
        foreach (var property in ConfigFields.Object(file, "cuda", value).EnumerateObject())
        {
            var field = "cuda." + property.Name;
            settings = property.Name switch
            {
                "memory_limit_bytes" => settings with { MemoryLimitBytes = ConfigFields.Long(file, field, property.Value, min: 1, max: long.MaxValue) },
                "arena_extend_strategy" =>
                    settings with { ArenaExtendStrategy = OneOf(file, field, property.Value, CudaProviderSettings.ArenaStrategies.Keys) },
                "cudnn_conv_algo_search" =>
                    settings with { CudnnConvAlgoSearch = OneOf(file, field, property.Value, CudaProviderSettings.ConvAlgoSearches.Keys) },
                "copy_in_default_stream" => settings with { CopyInDefaultStream = ConfigFields.Bool(file, field, property.Value) },
                "cuda_graph" => settings with { CudaGraph = ConfigFields.Bool(file, field, property.Value) },
                _ => throw ConfigFields.Unknown(file, field, Known),
            };
        }

        // A CUDA graph replays one captured shape: batching would change the batch dimension from run to run.
        if (settings.CudaGraph == true && maxBatchSize > 0)
        {
            throw new ModelConfigException(file, "cuda.cuda_graph", $"needs a fixed-shape model (max_batch_size 0), but max_batch_size is {maxBatchSize}");
        }

        return settings;
    }

    private static string OneOf(string file, string field, JsonElement value, IEnumerable<string> allowed)
    {
        var text = ConfigFields.String(file, field, value);
        return allowed.Contains(text, StringComparer.Ordinal) ? text
            : throw new ModelConfigException(file, field, $"'{text}' must be one of: {string.Join(", ", allowed)}");
    }
}
