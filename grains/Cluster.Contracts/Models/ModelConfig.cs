namespace Cluster.Contracts.Models;

/// <summary>A model's serving configuration, read from <c>config.json</c> beside its versions (Triton's knobs).</summary>
[GenerateSerializer, Immutable]
public sealed record ModelConfig
{
    /// <summary>Largest batch the model accepts in its first dimension; 0 means the model has no batch dimension.</summary>
    [Id(0)] public int MaxBatchSize { get; init; }

    /// <summary>Session instances per device (batches that may run at once on one device).</summary>
    [Id(1)] public int InstanceCount { get; init; } = 1;

    /// <summary>Device kinds the model may run on (<c>cuda</c>, <c>cpu</c>, <c>sim</c>); empty means any.</summary>
    [Id(2)] public string[] DeviceKinds { get; init; } = [];

    /// <summary>Which versions are served.</summary>
    [Id(3)] public VersionPolicy VersionPolicy { get; init; } = VersionPolicy.Latest(1);

    /// <summary>Fewest replicas kept running.</summary>
    [Id(4)] public int MinReplicas { get; init; } = 1;

    /// <summary>Most replicas allowed.</summary>
    [Id(5)] public int MaxReplicas { get; init; } = 1;

    /// <summary>Dynamic batching; on whenever <see cref="MaxBatchSize"/> is above 1.</summary>
    [Id(6)] public DynamicBatchingConfig DynamicBatching { get; init; } = new();

    /// <summary>Warm-up requests run on every new session before it serves; none configured means one zero-filled request.</summary>
    [Id(7)] public WarmupSetting[] Warmup { get; init; } = [];

    /// <summary>Set when the model is served as a text-embedding pipeline (BYTES sentences in, FP32 embeddings out).</summary>
    [Id(8)] public TextEmbeddingConfig? TextEmbedding { get; init; }

    /// <summary>
    /// Threads each session instance uses inside one operator (ONNX Runtime's intra-op threads); 0 means
    /// ONNX Runtime's default, one per core. Several single-threaded instances keep a CPU busier than one
    /// instance spread over every core, which stalls whenever any other thread takes a core.
    /// </summary>
    [Id(9)] public int IntraOpThreads { get; init; }

    /// <summary>How the replica count between <see cref="MinReplicas"/> and <see cref="MaxReplicas"/> follows the load.</summary>
    [Id(10)] public AutoscalingConfig Autoscaling { get; init; } = new();

    /// <summary>Set when the model is served as a text generator (a decoder with a KV cache).</summary>
    [Id(11)] public GenerationConfig? Generation { get; init; }

    /// <summary>
    /// Whether a request in flight on a replica whose silo is lost (declared dead before it answered) is sent again to
    /// another replica. Inference is free of side effects, so it is by default; a model that must run at most once turns
    /// it off, and its callers then get ReplicaLostException (the request may have run).
    /// </summary>
    [Id(12)] public bool RetryOnReplicaLoss { get; init; } = true;

    /// <summary>CUDA execution provider settings, over the silo's; empty when the model sets none.</summary>
    [Id(13)] public CudaProviderSettings Cuda { get; init; } = new();

    /// <summary>
    /// The variant files each version holds, with the device kinds each suits; empty means the file-name convention
    /// (<c>model.fp16.onnx</c>, <c>model.int8.onnx</c> beside <c>model.onnx</c>).
    /// </summary>
    [Id(14)] public VariantFile[] Variants { get; init; } = [];

    /// <summary>Whether a device of the given kind may host the model.</summary>
    public bool AllowsDeviceKind(string kind) => DeviceKinds.Length == 0 || KindAllowed(DeviceKinds, kind);

    /// <summary>Whether <paramref name="kind"/> is one of <paramref name="allowed"/> or a profile of one (<c>sim:t4</c> of <c>sim</c>).</summary>
    public static bool KindAllowed(string[] allowed, string kind) =>
        Array.Exists(allowed, a => kind == a || kind.StartsWith(a + ":", StringComparison.Ordinal));
}
