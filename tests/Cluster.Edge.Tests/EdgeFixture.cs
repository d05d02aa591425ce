using Cluster.Client.Protocol;
using Cluster.Grains.Tests;
using Cluster.Tests.Shared;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Edge.Tests;

/// <summary>
/// One silo whose edge requires API keys (<c>infer-key</c>: infer; <c>admin-key</c>: infer and admin) and
/// has small limits (1 MiB messages, 4096 elements per tensor, 64 KiB text bodies), plus stubs compiled from the project's proto.
/// </summary>
public sealed class EdgeFixture : IAsyncLifetime
{
    public const string InferKey = "infer-key";
    public const string AdminKey = "admin-key";
    public const int MaxMessageBytes = 1024 * 1024;
    public const long MaxElementsPerTensor = 4096;

    /// <summary>The body limit of the text routes (OpenAI's <c>/v1</c>, Triton's <c>generate</c>).</summary>
    public const long MaxTextBodyBytes = 64 * 1024;

    /// <summary>A copy of tiny_classifier only the metrics test calls, so its counts are exact.</summary>
    public const string MetricsModel = "tiny_metrics";

    /// <summary>A model whose every run fails inside ONNX Runtime (a reshape to the wrong size).</summary>
    public const string FailingModel = "fails_at_run";

    /// <summary>wide_mlp with a warm-up long enough (300 batches of 64) to observe readiness while it runs.</summary>
    public const string SlowWarmupModel = "wide_slow_warmup";

    /// <summary>Echoes a float matrix (Identity), so a request of one 4096-element row is answered with 16 KiB.</summary>
    public const string EchoModel = "stream_echo";

    /// <summary>The natural logarithm of a float matrix: log 0 is -infinity, log -1 is NaN.</summary>
    public const string LogModel = "log_of";

    /// <summary>The edge's cap on requests in flight per <c>ModelStreamInfer</c> call.</summary>
    public const int MaxStreamRequestsInFlight = 8;

    private GrpcChannel? _channel;

    public InProcessCluster Cluster { get; private set; } = null!;

    public GRPCInferenceService.GRPCInferenceServiceClient Grpc { get; private set; } = null!;

    public GrpcChannel Channel => _channel!;

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync()
    {
        Cluster = await InProcessCluster.StartAsync(
            ["edge"],
            perSilo: _ => new()
            {
                ["Cluster:Edge:MaxMessageBytes"] = MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Cluster:Edge:MaxElementsPerTensor"] = MaxElementsPerTensor.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Cluster:Edge:MaxElementsPerRequest"] = (MaxElementsPerTensor * 4).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Cluster:Edge:MaxTextBodyBytes"] = MaxTextBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Cluster:Edge:MaxStreamRequestsInFlight"] = MaxStreamRequestsInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Cluster:BundledModels"] = RepositoryPaths.BundledModels,
                ["Orleans:Metadata:cloud"] = "aws",
                ["Orleans:Metadata:region"] = "eu-west-1",
                ["Cluster:Edge:ApiKeys:0:Key"] = InferKey,
                ["Cluster:Edge:ApiKeys:0:Scopes:0"] = "infer",
                ["Cluster:Edge:ApiKeys:1:Key"] = AdminKey,
                ["Cluster:Edge:ApiKeys:1:Scopes:0"] = "infer",
                ["Cluster:Edge:ApiKeys:1:Scopes:1"] = "admin",
            },
            prepareRepository: repository =>
            {
                RepositoryPaths.AddCorruptModel(repository, "broken");

                // Single rows run at once (preferred size 1); a two-row request waits for the 60 s delay, so it can time out or be cancelled.
                ClassifierCopies.Add(repository, MetricsModel, """
                    {"max_batch_size": 8, "dynamic_batching": {"preferred_batch_size": [1], "max_queue_delay_microseconds": 60000000}}
                    """);
                var failing = Path.Combine(repository, FailingModel, "1");
                Directory.CreateDirectory(failing);
                var reshape = new global::Cluster.Inference.Onnx.OnnxGraphBuilder(FailingModel)
                    .Input("x", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1, 4)
                    .Output("y", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1)
                    .Initializer("five", [5L], 1)
                    .Node("Reshape", ["x", "five"], ["y"])
                    .Build("Reshapes any input to 5 elements, which fails at run time for a batch of 4-vectors.");
                File.WriteAllBytes(Path.Combine(failing, "model.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(reshape));
                var echo = Path.Combine(repository, EchoModel, "1");
                Directory.CreateDirectory(echo);
                var identity = new global::Cluster.Inference.Onnx.OnnxGraphBuilder(EchoModel)
                    .Input("x", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1, -1)
                    .Output("y", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1, -1)
                    .Node("Identity", ["x"], ["y"])
                    .Build("Answers its input.");
                File.WriteAllBytes(Path.Combine(echo, "model.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(identity));
                File.WriteAllText(Path.Combine(repository, EchoModel, "config.json"), """{"max_batch_size": 8}""");
                var log = Path.Combine(repository, LogModel, "1");
                Directory.CreateDirectory(log);
                var logarithm = new global::Cluster.Inference.Onnx.OnnxGraphBuilder(LogModel)
                    .Input("x", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1, -1)
                    .Output("y", global::Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, -1, -1)
                    .Node("Log", ["x"], ["y"])
                    .Build("The natural logarithm of its input.");
                File.WriteAllBytes(Path.Combine(log, "model.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(logarithm));
                File.WriteAllText(Path.Combine(repository, LogModel, "config.json"), """{"max_batch_size": 8}""");
                var slow = Path.Combine(repository, SlowWarmupModel, "1");
                Directory.CreateDirectory(slow);
                File.Copy(Path.Combine(repository, "wide_mlp", "1", "model.onnx"), Path.Combine(slow, "model.onnx"));
                File.WriteAllText(Path.Combine(repository, SlowWarmupModel, "config.json"), """
                    {"max_batch_size": 64, "model_warmup": [{"name": "long", "batch_size": 64, "count": 300,
                      "inputs": {"input": {"data_type": "TYPE_FP32", "dims": [256], "zero_data": true}}}]}
                    """);
            });
        _channel = GrpcChannel.ForAddress(Cluster.GrpcAddresses[0], new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = null });
        Grpc = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        Http.BaseAddress = new Uri(Cluster.HttpAddresses[0]);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        _channel?.Dispose();
        await Cluster.DisposeAsync();
    }

    /// <summary>Call headers carrying an API key.</summary>
    public static Metadata Key(string key = AdminKey) => new() { { "authorization", $"Bearer {key}" } };
}

[CollectionDefinition(Name)]
public sealed class EdgeCollection : ICollectionFixture<EdgeFixture>
{
    public const string Name = "edge";
}
