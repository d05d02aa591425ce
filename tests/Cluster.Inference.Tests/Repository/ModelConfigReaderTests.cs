using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Inference.Repository;

namespace Cluster.Inference.Tests.Repository;

public sealed class ModelConfigReaderTests
{
    [Fact]
    public void Parse_AllSettings_ReadsEach()
    {
        var config = Parse(
            """{"max_batch_size": 16, "instance_count": 2, "device_kinds": ["cuda", "sim:t4"], "version_policy": {"specific": {"versions": [1, 3]}},""" +
                """ "min_replicas": 2, "max_replicas": 4, "intra_op_threads": 1}""");
        Assert.Equal(1, config.IntraOpThreads);
        Assert.Equal(16, config.MaxBatchSize);
        Assert.Equal(2, config.InstanceCount);
        Assert.Equal(["cuda", "sim:t4"], config.DeviceKinds);
        Assert.Equal(VersionPolicyKind.Specific, config.VersionPolicy.Kind);
        Assert.Equal([1L, 3L], config.VersionPolicy.Versions);
        Assert.Equal((2, 4), (config.MinReplicas, config.MaxReplicas));
    }

    [Fact]
    public void Parse_Autoscaling_ReadsEachSetting()
    {
        var config = Parse("""{"autoscaling": {"target_queue_per_replica": 2.5, "upscale_delay_s": 0.5, "downscale_delay_s": 30}}""");
        Assert.Equal(
            new AutoscalingConfig { TargetQueuePerReplica = 2.5, UpscaleDelay = TimeSpan.FromMilliseconds(500), DownscaleDelay = TimeSpan.FromSeconds(30) },
                config.Autoscaling);
        Assert.Equal(new AutoscalingConfig(), Parse("{}").Autoscaling);
    }

    [Fact]
    public void Parse_RetryOnReplicaLoss_IsOnByDefault_AndCanBeTurnedOff()
    {
        Assert.True(Parse("{}").RetryOnReplicaLoss);
        Assert.False(Parse("""{"retry_on_replica_loss": false}""").RetryOnReplicaLoss);
        Assert.True(Parse("""{"retry_on_replica_loss": true}""").RetryOnReplicaLoss);
    }

    [Fact]
    public void Parse_Empty_UsesDefaults()
    {
        var config = Parse("{}");
        Assert.Equal(0, config.MaxBatchSize);
        Assert.Equal(1, config.InstanceCount);
        Assert.Equal(VersionPolicyKind.Latest, config.VersionPolicy.Kind);
        Assert.Equal(1, config.VersionPolicy.LatestCount);
    }

    [Theory]
    [InlineData("""{"max_batch_size": -1}""", "max_batch_size", "must be at least 0, got -1")]
    [InlineData("""{"max_batch_size": "8"}""", "max_batch_size", "must be an integer")]
    [InlineData("""{"instance_count": 0}""", "instance_count", "must be at least 1")]
    [InlineData("""{"max_batch_sise": 8}""", "max_batch_sise", "is not a known setting")]
    [InlineData("""{"device_kinds": ["tpu"]}""", "device_kinds", "\"tpu\"")]
    [InlineData("""{"version_policy": {"newest": {}}}""", "version_policy.newest", "is not a version policy")]
    [InlineData("""{"version_policy": {"latest": {}}}""", "version_policy.latest.num_versions", "is required")]
    [InlineData("""{"min_replicas": 3, "max_replicas": 2}""", "min_replicas", "must not exceed max_replicas")]
    [InlineData("""{"max_batch_size": 8, "text_embedding": {"pooling": "cls"}}""", "text_embedding.pooling", "is not a known setting")]
    [InlineData("""{"max_batch_size": 8, "text_embedding": {"max_padding_fraction": 1.5}}""", "text_embedding.max_padding_fraction", "from 0 up to")]
    [InlineData("""{"max_batch_size": 8, "text_embedding": {"vocabulary": "../../vocab.txt"}}""", "text_embedding.vocabulary", "must be a file name")]
    [InlineData("""{"max_batch_size": 8, "text_embedding": {"max_tokens": 2}}""", "text_embedding.max_tokens", "must be at least 3")]
    [InlineData("""{"text_embedding": {}}""", "text_embedding", "needs max_batch_size above 0")]
    [InlineData("""{"intra_op_threads": -1}""", "intra_op_threads", "must be at least 0")]
    [InlineData("""{"retry_on_replica_loss": "no"}""", "retry_on_replica_loss", "must be true or false")]
    [InlineData("""{"autoscaling": {"target_queue_per_replica": 0}}""", "autoscaling.target_queue_per_replica", "must be above 0")]
    [InlineData("""{"autoscaling": {"upscale_delay_s": -1}}""", "autoscaling.upscale_delay_s", "must be at least 0")]
    [InlineData("""{"autoscaling": {"delay": 1}}""", "autoscaling.delay", "is not a known setting")]
    public void Parse_BadField_NamesFileAndField(string json, string field, string problem)
    {
        var error = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal("models/m/config.json", error.File);
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"models/m/config.json: field '{field}' ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"instance_count": 100000}""", "instance_count", "must be at most 64, got 100000")]
    [InlineData("""{"intra_op_threads": 100000}""", "intra_op_threads", "must be at most 256, got 100000")]
    [InlineData("""{"min_replicas": 5000, "max_replicas": 5000}""", "min_replicas", "must be at most 1024, got 5000")]
    [InlineData("""{"max_replicas": 2147483647}""", "max_replicas", "must be at most 1024, got 2147483647")]
    [InlineData("""{"max_batch_size": 10000000}""", "max_batch_size", "must be at most 65536")]
    [InlineData("""{"model_warmup": [{"count": 1000000000, "inputs": {"x": {"data_type": "TYPE_FP32", "dims": [2], "zero_data": true}}}]}""",
        "model_warmup[0].count", "must be at most 1000, got 1000000000")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"data_type": "TYPE_FP32", "dims": [100000, 100000], "zero_data": true}}}]}""",
        "model_warmup[0].inputs.x.dims", "more than 16777216 elements per sample")]
    [InlineData("""{"max_batch_size": 64, "model_warmup": [{"batch_size": 64, "inputs": {"x": {"data_type": "TYPE_FP32", "dims": [1000000], "zero_data":""" +
        """ true}}}]}""", "model_warmup[0].inputs.x.dims", "with batch_size 64 describe 64000000 elements")]
    [InlineData("""{"generation": {"context_length": 100000000}}""", "generation.context_length", "must be at most 1048576")]
    [InlineData("""{"generation": {"max_running_sequences": 1000000, "max_step_tokens": 1000000}}""", "generation.max_running_sequences",
        "must be at most 4096")]
    [InlineData("""{"generation": {"kv_cache_bytes": 1000000000000000}}""", "generation.kv_cache_bytes", "must be at most 1099511627776")]
    [InlineData("""{"generation": {"max_waiting": 2000000000}}""", "generation.max_waiting", "must be at most 1000000")]
    [InlineData("""{"generation": {"eos_token_ids": [2000000000]}}""", "generation.eos_token_ids", "must be at most 16777216")]
    [InlineData("""{"autoscaling": {"upscale_delay_s": 1e12}}""", "autoscaling.upscale_delay_s", "must be at most 86400")]
    [InlineData("""{"dynamic_batching": {"max_queue_delay_microseconds": 9000000000000}}""", "dynamic_batching.max_queue_delay_microseconds",
        "must be at most 60000000")]
    public void Parse_NumberAboveItsBound_NamesTheFieldAndTheBound(string json, string field, string problem)
    {
        var error = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TextEmbedding_ReadsEachSetting()
    {
        var config = Parse(
            """{"max_batch_size": 64, "text_embedding": {"vocabulary": "words.txt", "max_tokens": 128, "lower_case": false, "max_padding_fraction": 0.1,""" +
                """ "dimensions": 384}}""");
        Assert.Equal(new TextEmbeddingConfig { Vocabulary = "words.txt", MaxTokens = 128, LowerCase = false, MaxPaddingFraction = 0.1, Dimensions = 384 },
            config.TextEmbedding);
        Assert.Null(Parse("{}").TextEmbedding);
    }

    [Fact]
    public void Read_InvalidJson_NamesFile()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "{ max_batch_size: 8");
        var error = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Read(file));
        Assert.Equal(file, error.File);
        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionPolicy_Select_PicksNewestFirst()
    {
        long[] available = [1, 3, 2];
        Assert.Equal([3L, 2L], VersionPolicy.Latest(2).Select(available));
        Assert.Equal([3L, 2L, 1L], VersionPolicy.All().Select(available));
        Assert.Equal([3L, 1L], VersionPolicy.Specific(1, 3, 9).Select(available));
    }

    private static ModelConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ModelConfigReader.Parse("models/m/config.json", document.RootElement);
    }
}

public sealed class BatchingConfigReaderTests
{
    [Fact]
    public void Parse_DynamicBatchingAndWarmup_ReadsTritonNames()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            {
              "max_batch_size": 16,
              "dynamic_batching": {
                "preferred_batch_size": [4, 8],
                "max_queue_delay_microseconds": 500,
                "preserve_ordering": true,
                "priority_levels": 3,
                "default_priority_level": 2,
                "default_queue_policy": {
                  "timeout_action": "DELAY", "default_timeout_microseconds": 1000, "allow_timeout_override": false, "max_queue_size": 32
                }
              },
              "model_warmup": [
                { "name": "zeros", "batch_size": 4, "count": 2, "inputs": { "x": { "data_type": "TYPE_FP32", "dims": [8], "zero_data": true } } },
                { "name": "file", "inputs": { "t": { "data_type": "TYPE_STRING", "dims": [1], "input_data_file": "t.bin" } } }
              ]
            }
            """);
        var config = Cluster.Inference.Repository.ModelConfigReader.Parse("c.json", document.RootElement);
        var batching = config.DynamicBatching;
        Assert.Equal([4, 8], batching.PreferredBatchSizes);
        Assert.Equal(500, batching.MaxQueueDelayMicroseconds);
        Assert.True(batching.PreserveOrdering);
        Assert.Equal((3, 2), (batching.PriorityLevels, batching.DefaultPriorityLevel));
        Assert.Equal(TimeoutAction.Delay, batching.TimeoutAction);
        Assert.Equal(1000, batching.DefaultTimeoutMicroseconds);
        Assert.False(batching.AllowTimeoutOverride);
        Assert.Equal(32, batching.MaxQueueSize);
        Assert.Equal(2, config.Warmup.Length);
        Assert.Equal(("zeros", 4, 2), (config.Warmup[0].Name, config.Warmup[0].BatchSize, config.Warmup[0].Count));
        Assert.Equal(Cluster.Contracts.Tensors.TensorElementType.Float32, config.Warmup[0].Inputs[0].ElementType);
        Assert.Equal(WarmupData.File, config.Warmup[1].Inputs[0].Data);
        Assert.Equal(Cluster.Contracts.Tensors.TensorElementType.String, config.Warmup[1].Inputs[0].ElementType);
    }

    [Theory]
    [InlineData("""{"max_batch_size": 4, "dynamic_batching": {"preferred_batch_size": [8]}}""", "dynamic_batching.preferred_batch_size",
        "above max_batch_size 4")]
    [InlineData("""{"dynamic_batching": {"priority_levels": 2, "default_priority_level": 3}}""", "dynamic_batching.default_priority_level",
        "between 1 and priority_levels (2)")]
    [InlineData("""{"dynamic_batching": {"default_queue_policy": {"timeout_action": "DROP"}}}""", "dynamic_batching.default_queue_policy.timeout_action",
        "\"REJECT\" or \"DELAY\"")]
    [InlineData("""{"dynamic_batching": {"max_delay": 5}}""", "dynamic_batching.max_delay", "is not a known setting")]
    [InlineData("""{"model_warmup": [{"name": "w", "inputs": {"x": {"data_type": "TYPE_FP32", "dims": [2]}}}]}""", "model_warmup[0].inputs.x",
        "exactly one of zero_data, random_data, input_data_file")]
    [InlineData("""{"model_warmup": [{"name": "w", "inputs": {"x": {"data_type": "TYPE_FP99", "dims": [2], "zero_data": true}}}]}""",
        "model_warmup[0].inputs.x.data_type", "is not a datatype")]
    public void Parse_BadBatchingOrWarmup_NamesTheField(string json, string field, string problem)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var error = Assert.Throws<Cluster.Inference.Repository.ModelConfigException>(() =>
            Cluster.Inference.Repository.ModelConfigReader.Parse("c.json", document.RootElement));
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }
}
