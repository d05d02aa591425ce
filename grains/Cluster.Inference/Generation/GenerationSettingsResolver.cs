using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Generation;

/// <summary>
/// Turns a model's <c>generation</c> config into engine settings: fields it leaves out come from the
/// version folder's Hugging Face files (<c>config.json</c>: <c>eos_token_id</c>, <c>max_position_embeddings</c>;
/// <c>generation_config.json</c>: <c>eos_token_id</c>, <c>temperature</c>, <c>top_p</c>, <c>top_k</c>,
/// <c>do_sample</c>; the chat template), then from defaults; the KV cache budget falls back to a share of the device's memory.
/// </summary>
public static class GenerationSettingsResolver
{
    /// <summary>Context length when neither the config nor the model says.</summary>
    public const int DefaultContextLength = 2048;

    /// <summary>The engine settings for a model version in <paramref name="versionFolder"/> on a device of <paramref name="deviceMemoryBytes"/>.</summary>
    public static GenerationSettings Resolve(GenerationConfig config, string versionFolder, long deviceMemoryBytes)
    {
        var model = ReadJson(Path.Combine(versionFolder, "config.json"));
        var generation = ReadJson(Path.Combine(versionFolder, "generation_config.json"));
        var eos = config.EosTokenIds.Length > 0 ? config.EosTokenIds : TokenIds(generation, "eos_token_id") ?? TokenIds(model, "eos_token_id") ?? [];
        var context = config.ContextLength > 0 ? config.ContextLength : Int(model, "max_position_embeddings") ?? Int(model, "n_positions")
            ?? DefaultContextLength;
        var sampling = new SamplingParameters(config.Temperature, config.TopP, config.TopK, 0);
        if (generation is { } hf && config == config with { Temperature = 1f, TopP = 1f, TopK = 0 })
        {
            // Only the model's own defaults apply when config.json left sampling alone.
            var greedy = hf.TryGetProperty("do_sample", out var doSample) && doSample.ValueKind == JsonValueKind.False;
            sampling = new SamplingParameters(
                greedy ? 0f : (float?)Double(hf, "temperature") ?? 1f,
                (float?)Double(hf, "top_p") ?? 1f,
                Int(hf, "top_k") ?? 0,
                0);
        }

        var cacheBytes = config.KvCacheBytes > 0 ? config.KvCacheBytes : (long)(deviceMemoryBytes * config.KvCacheFraction);
        return new GenerationSettings
        {
            EosTokenIds = eos,
            ContextLength = context,
            DefaultMaxTokens = Math.Min(config.MaxTokens, context - 1),
            DefaultSampling = sampling,
            KvCacheBytes = cacheBytes,
            BlockTokens = config.BlockTokens,
            PrefixCaching = config.PrefixCaching,
            MaxRunningSequences = config.MaxRunningSequences,
            MaxStepTokens = config.MaxStepTokens,
            MaxWaiting = config.MaxWaiting,
            MaxWait = TimeSpan.FromMilliseconds(config.MaxWaitMilliseconds),
            ChatTemplate = ChatTemplate.For(config.ChatTemplate, versionFolder),
        };
    }

    private static JsonElement? ReadJson(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        try
        {
            using var document =
                JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{file} is not valid JSON: {e.Message}");
        }
    }

    private static int[]? TokenIds(JsonElement? json, string name)
    {
        if (json is not { } root || !root.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt32(out var id) => [id],
            JsonValueKind.Array => [.. value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32())],
            _ => null,
        };
    }

    private static int? Int(JsonElement? json, string name) =>
        json is { } root && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number
            : null;

    private static double? Double(JsonElement? json, string name) =>
        json is { } root && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}
