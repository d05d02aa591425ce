using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Inference.Generation;

namespace Cluster.Inference.Repository;

/// <summary>Reads a model's <c>generation</c> object: serve the decoder as a text generator.</summary>
internal static class GenerationReader
{
    private const string Field = "generation";
    private const string Known = "tokenizer, eos_token_ids, context_length, max_tokens, temperature, top_p, top_k, kv_cache_bytes, kv_cache_fraction, " +
        "max_running_sequences, max_step_tokens, max_waiting, max_wait_ms, block_tokens, prefix_caching, chat_template";

    /// <summary>The longest context (and step, and answer) in tokens: 1 Mi.</summary>
    private const int MaxTokens = 1 << 20;

    /// <summary>The largest token id (and <c>top_k</c>): 16 Mi, far above any vocabulary.</summary>
    private const int MaxTokenId = 1 << 24;

    public static GenerationConfig Read(string file, JsonElement value)
    {
        var config = new GenerationConfig();
        foreach (var property in ConfigFields.Object(file, Field, value).EnumerateObject())
        {
            var path = $"{Field}.{property.Name}";
            var item = property.Value;
            config = property.Name switch
            {
                "tokenizer" => config with { Tokenizer = Tokenizer(file, path, ConfigFields.String(file, path, item)) },
                "eos_token_ids" => config with { EosTokenIds = TokenIds(file, path, item) },
                "context_length" => config with { ContextLength = ConfigFields.Int(file, path, item, min: 2, max: MaxTokens) },
                "max_tokens" => config with { MaxTokens = ConfigFields.Int(file, path, item, min: 1, max: MaxTokens) },
                "temperature" => config with { Temperature = (float)ConfigFields.Double(file, path, item, min: 0, max: 100) },
                "top_p" => config with { TopP = TopP(file, path, item) },
                "top_k" => config with { TopK = ConfigFields.Int(file, path, item, min: 0, max: MaxTokenId) },
                "kv_cache_bytes" => config with { KvCacheBytes = ConfigFields.Long(file, path, item, min: 1, max: 1L << 40) },
                "kv_cache_fraction" => config with { KvCacheFraction = Fraction(file, path, item) },
                "max_running_sequences" => config with { MaxRunningSequences = ConfigFields.Int(file, path, item, min: 1, max: 4_096) },
                "max_step_tokens" => config with { MaxStepTokens = ConfigFields.Int(file, path, item, min: 1, max: MaxTokens) },
                "max_waiting" => config with { MaxWaiting = ConfigFields.Int(file, path, item, min: 1, max: 1_000_000) },
                "max_wait_ms" => config with { MaxWaitMilliseconds = ConfigFields.Int(file, path, item, min: 1, max: 3_600_000) },
                "block_tokens" => config with { BlockTokens = ConfigFields.Int(file, path, item, min: 1, max: 65_536) },
                "prefix_caching" => config with { PrefixCaching = ConfigFields.Bool(file, path, item) },
                "chat_template" => config with { ChatTemplate = ChatTemplateName(file, path, ConfigFields.String(file, path, item)) },
                _ => throw ConfigFields.Unknown(file, path, Known),
            };
        }

        if (config.MaxStepTokens < config.MaxRunningSequences)
        {
            throw new ModelConfigException(file, $"{Field}.max_step_tokens",
                $"({config.MaxStepTokens}) must be at least max_running_sequences ({config.MaxRunningSequences}): every running sequence decodes one token " +
                    "per step");
        }

        return config;
    }

    private static string Tokenizer(string file, string field, string name) =>
        name is "" or "gpt2" ? name
            : throw new ModelConfigException(file,
                field, $"must be \"gpt2\" (built in) or left out to read the version folder's tokenizer files, got \"{name}\"");

    private static string ChatTemplateName(string file, string field, string name) =>
        name is "" || ChatTemplate.Styles.Contains(name)
            ? name
            : throw new ModelConfigException(file,
                field, $"must be one of {string.Join(", ", ChatTemplate.Styles)} (or left out to read the version folder's template), got \"{name}\"");

    private static int[] TokenIds(string file, string field, JsonElement value)
    {
        var ids = new List<int>();
        foreach (var item in ConfigFields.Array(file, field, value).EnumerateArray())
        {
            ids.Add(ConfigFields.Int(file, field, item, min: 0, max: MaxTokenId));
        }

        return [.. ids];
    }

    private static float TopP(string file, string field, JsonElement value)
    {
        var number = ConfigFields.Double(file, field, value, min: 0, max: 1);
        return number is > 0 and <= 1 ? (float)number : throw new ModelConfigException(file, field, $"must be above 0 and at most 1, got {number}");
    }

    private static double Fraction(string file, string field, JsonElement value)
    {
        var number = ConfigFields.Double(file, field, value, min: 0, max: 1);
        return number is > 0 and <= 1 ? number : throw new ModelConfigException(file, field, $"must be above 0 and at most 1, got {number}");
    }
}
