using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>Reads a model's <c>config.json</c> (Triton's knobs in snake_case), rejecting unknown fields and bad values by name.</summary>
public static class ModelConfigReader
{
    private const string Known = "max_batch_size, instance_count, device_kinds, version_policy, min_replicas, max_replicas, autoscaling, dynamic_batching, "
        + "model_warmup, text_embedding, generation, intra_op_threads, retry_on_replica_loss, cuda, variants";

    /// <summary>The largest <c>max_batch_size</c> (and warm-up or preferred batch size) a model may set.</summary>
    internal const int MaxBatchSize = 65_536;

    /// <summary>The largest <c>min_replicas</c> and <c>max_replicas</c>.</summary>
    internal const int MaxReplicas = 1_024;

    private static readonly string[] KnownDeviceKinds = ["cuda", "cpu", "sim"];

    /// <summary>Reads and validates the file.</summary>
    public static ModelConfig Read(string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(file),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(file, "$", $"is not valid JSON: {e.Message}");
        }

        using (document)
        {
            return Parse(file, document.RootElement);
        }
    }

    /// <summary>Parses a config from JSON text; <paramref name="file"/> names the source in errors.</summary>
    public static ModelConfig Parse(string file, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelConfigException(file, "$", "must be a JSON object");
        }

        var config = new ModelConfig();
        JsonElement? cuda = null;
        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            if (property.Name == "cuda")
            {
                // Read once max_batch_size is known, wherever it stands in the file.
                cuda = value;
                continue;
            }

            config = property.Name switch
            {
                "max_batch_size" => config with { MaxBatchSize = ConfigFields.Int(file, "max_batch_size", value, min: 0, max: MaxBatchSize) },
                "instance_count" => config with { InstanceCount = ConfigFields.Int(file, "instance_count", value, min: 1, max: 64) },
                "device_kinds" => config with { DeviceKinds = DeviceKinds(file, "device_kinds", value) },
                "version_policy" => config with { VersionPolicy = VersionPolicyOf(file, value) },
                "min_replicas" => config with { MinReplicas = ConfigFields.Int(file, "min_replicas", value, min: 0, max: MaxReplicas) },
                "max_replicas" => config with { MaxReplicas = ConfigFields.Int(file, "max_replicas", value, min: 1, max: MaxReplicas) },
                "autoscaling" => config with { Autoscaling = AutoscalingReader.Read(file, value) },
                "dynamic_batching" => config with { DynamicBatching = DynamicBatchingReader.Read(file, value) },
                "model_warmup" => config with { Warmup = WarmupReader.Read(file, value) },
                "text_embedding" => config with { TextEmbedding = TextEmbeddingReader.Read(file, value) },
                "generation" => config with { Generation = GenerationReader.Read(file, value) },
                "intra_op_threads" => config with { IntraOpThreads = ConfigFields.Int(file, "intra_op_threads", value, min: 0, max: 256) },
                "retry_on_replica_loss" => config with { RetryOnReplicaLoss = ConfigFields.Bool(file, "retry_on_replica_loss", value) },
                "variants" => config with { Variants = VariantsReader.Read(file, value) },
                _ => throw ConfigFields.Unknown(file, property.Name, Known),
            };
        }

        if (cuda is { } cudaSettings)
        {
            config = config with { Cuda = CudaProviderReader.Read(file, cudaSettings, config.MaxBatchSize) };
        }

        DynamicBatchingReader.Validate(file, config.DynamicBatching, config.MaxBatchSize);
        if (config.TextEmbedding is not null && config.MaxBatchSize == 0)
        {
            throw new ModelConfigException(file, "text_embedding", "needs max_batch_size above 0: sentences are batched along the first dimension");
        }

        if (config.Generation is not null && config.TextEmbedding is not null)
        {
            throw new ModelConfigException(file, "generation", "cannot be combined with text_embedding: a model is either a generator or an embedder");
        }

        if (config.Variants.Length > 0 && (config.Generation is not null || config.TextEmbedding is not null))
        {
            throw new ModelConfigException(file, "variants", "cannot be combined with generation or text_embedding: those serve their one model.onnx");
        }

        if (config.MinReplicas > config.MaxReplicas)
        {
            throw new ModelConfigException(file, "min_replicas", $"({config.MinReplicas}) must not exceed max_replicas ({config.MaxReplicas})");
        }

        return config;
    }

    /// <summary>An array of device kinds (<c>cuda</c>, <c>cpu</c>, <c>sim</c>, <c>sim:&lt;profile&gt;</c>) at <paramref name="field"/>.</summary>
    internal static string[] DeviceKinds(string file, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelConfigException(file, field, $"must be an array of strings, got {value.GetRawText()}");
        }

        var kinds = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            var kind = item.ValueKind == JsonValueKind.String ? item.GetString()! : "";
            var family = kind.Split(':')[0];
            if (!KnownDeviceKinds.Contains(family))
            {
                throw new ModelConfigException(file, field, $"has {item.GetRawText()}; use \"cuda\", \"cpu\", \"sim\" or \"sim:<profile>\"");
            }

            kinds.Add(kind);
        }

        return [.. kinds];
    }

    private static VersionPolicy VersionPolicyOf(string file, JsonElement value)
    {
        const string Field = "version_policy";
        if (value.ValueKind != JsonValueKind.Object || value.EnumerateObject().Count() != 1)
        {
            throw new ModelConfigException(file, Field, "must be an object with exactly one of \"latest\", \"all\", \"specific\"");
        }

        var choice = value.EnumerateObject().Single();
        switch (choice.Name)
        {
            case "all":
                return VersionPolicy.All();
            case "latest":
                var count = choice.Value.ValueKind == JsonValueKind.Object && choice.Value.TryGetProperty("num_versions", out var n)
                    ? ConfigFields.Int(file, "version_policy.latest.num_versions", n, min: 1, max: 100)
                    : throw new ModelConfigException(file, "version_policy.latest.num_versions", "is required");
                return VersionPolicy.Latest(count);
            case "specific":
                if (choice.Value.ValueKind != JsonValueKind.Object || !choice.Value.TryGetProperty("versions", out var versions)
                    || versions.ValueKind != JsonValueKind.Array)
                {
                    throw new ModelConfigException(file, "version_policy.specific.versions", "is required and must be an array of version numbers");
                }

                return VersionPolicy.Specific(
                    [.. versions.EnumerateArray().Select(v => (long)ConfigFields.Int(file, "version_policy.specific.versions", v, min: 1, max: int.MaxValue))]);
            default:
                throw new ModelConfigException(file, $"{Field}.{choice.Name}", "is not a version policy; use \"latest\", \"all\" or \"specific\"");
        }
    }
}
