namespace Cluster.Grains.Tests;

/// <summary>Copies of demo models under new names, each with the batching configuration a test needs.</summary>
internal static class BatchingModels
{
    /// <summary>Holds requests until 8 samples are queued (or 60 s pass), so 8 concurrent requests form one batch.</summary>
    public const string PreferredEight = "tiny_preferred_8";

    /// <summary>int64_scale holding requests until 2 of one shape are queued.</summary>
    public const string PreferredTwoInt64 = "int64_preferred_2";

    /// <summary>int64_scale holding requests until 2 are queued; only the tracing test uses it.</summary>
    public const string TracedPairs = "int64_traced";

    /// <summary>Holds a lone request 60 s, with room for one queued request.</summary>
    public const string SlowQueue = "tiny_slow_queue";

    /// <summary>A valid model_warmup with random data.</summary>
    public const string Warmed = "tiny_warmed";

    /// <summary>A model_warmup naming an input the model does not have.</summary>
    public const string BadWarmup = "tiny_bad_warmup";

    public static void AddTo(string repository)
    {
        Copy(repository, "tiny_classifier", PreferredEight, """
            {"max_batch_size": 8, "dynamic_batching": {"preferred_batch_size": [8], "max_queue_delay_microseconds": 60000000}}
            """);
        Copy(repository, "int64_scale", PreferredTwoInt64, """
            {"max_batch_size": 8, "dynamic_batching": {"preferred_batch_size": [2], "max_queue_delay_microseconds": 60000000}}
            """);
        Copy(repository, "int64_scale", TracedPairs, """
            {"max_batch_size": 8, "dynamic_batching": {"preferred_batch_size": [2], "max_queue_delay_microseconds": 60000000}}
            """);
        Copy(repository, "tiny_classifier", SlowQueue, """
            {"max_batch_size": 8, "dynamic_batching": {"max_queue_delay_microseconds": 60000000, "default_queue_policy": {"max_queue_size": 1}}}
            """);
        Copy(repository, "tiny_classifier", Warmed, """
            {"max_batch_size": 8, "model_warmup": [{"name": "random4", "batch_size": 4, "count": 2,
              "inputs": {"features": {"data_type": "TYPE_FP32", "dims": [4], "random_data": true}}}]}
            """);
        Copy(repository, "tiny_classifier", BadWarmup, """
            {"max_batch_size": 8, "model_warmup": [{"name": "typo", "inputs": {"featurez": {"data_type": "TYPE_FP32", "dims": [4], "zero_data": true}}}]}
            """);
    }

    private static void Copy(string repository, string source, string name, string config)
    {
        var version = Path.Combine(repository, name, "1");
        Directory.CreateDirectory(version);
        File.Copy(Path.Combine(repository, source, "1", "model.onnx"), Path.Combine(version, "model.onnx"));
        File.WriteAllText(Path.Combine(repository, name, "config.json"), config);
    }
}
