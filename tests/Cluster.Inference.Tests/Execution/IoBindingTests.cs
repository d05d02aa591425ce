using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Onnx;
using Cluster.Inference.Tensors;
using Cluster.Tests.Shared;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Tests.Execution;

/// <summary>
/// Batches run through ONNX Runtime IO binding (reused pinned buffers, preallocated outputs) give exactly what a plain session run
/// gives; <c>cuda.cuda_graph</c> is refused on models without fixed shapes and runs without a graph on the CPU.
/// </summary>
public sealed class IoBindingTests : IDisposable
{
    private static readonly DeviceDescriptor Cpu = DeviceDescriptor.Cpu;
    private readonly string _folder = Directory.CreateTempSubdirectory("io-binding-").FullName;

    [Theory]
    [InlineData("tiny_classifier", "probabilities")]
    [InlineData("wide_mlp", "logits")]
    [InlineData("two_in_two_out", "sum", "product")]
    [InlineData("int64_scale", "scaled")]
    public void RunBatch_DemoModel_MatchesPlainSessionRunOfEachRequest(string name, params string[] outputs)
    {
        var file = ModelFile(name);
        using var model = new OnnxRuntimeModel(file, Cpu, maxBatchSize: 8);
        using var session = OrtSessions.Open(file, Cpu);
        TensorData[][] requests = [Inputs(session, rows: 1, seed: 1), Inputs(session, rows: 3, seed: 2), Inputs(session, rows: 2, seed: 3)];

        var batched = model.RunBatch(requests, outputs);
        var alone = model.RunBatch([requests[1]], outputs);

        Assert.True(model.BindsInputsAndOutputs);
        for (var r = 0; r < requests.Length; r++)
        {
            var expected = PlainRun(session, requests[r], outputs);
            for (var o = 0; o < outputs.Length; o++)
            {
                Assert.Equal(expected[o].Shape, batched.Outputs[r][o].Shape);
                Assert.Equal(expected[o].Data, batched.Outputs[r][o].Data);
            }
        }

        Assert.Equal(PlainRun(session, requests[1], outputs)[0].Data, alone.Outputs[0][0].Data);
    }

    [Fact]
    public void RunBatch_BatchesGrowingAndShrinking_ReuseBuffersWithoutMixingRows()
    {
        var file = ModelFile("tiny_classifier");
        using var model = new OnnxRuntimeModel(file, Cpu, maxBatchSize: 64);
        using var session = OrtSessions.Open(file, Cpu);
        foreach (var (count, seed) in new[] { (2, 10), (40, 20), (3, 30), (40, 40) })
        {
            var requests = Enumerable.Range(0, count).Select(i => Inputs(session, rows: 1 + (i % 2), seed: seed + i)).ToArray();

            var batched = model.RunBatch(requests, ["probabilities"]);

            for (var r = 0; r < count; r++)
            {
                Assert.Equal(PlainRun(session, requests[r], ["probabilities"])[0].Data, batched.Outputs[r][0].Data);
            }
        }
    }

    [Fact]
    public void RunBatch_LoneRequestsInARow_EachGetsItsOwnOutputsFromTheOutputsLeftBound()
    {
        var file = ModelFile("two_in_two_out");
        using var model = new OnnxRuntimeModel(file, Cpu, maxBatchSize: 8);
        using var session = OrtSessions.Open(file, Cpu);
        string[] both = ["sum", "product"];
        string[] productOnly = ["product"];

        // Same rows and the same output list (kept bound), then another list, then a larger batch, then back to one row.
        foreach (var (outputs, rows, seed) in new[] { (both, 1, 1), (both, 1, 2), (productOnly, 1, 3), (both, 3, 4), (both, 1, 5), (both, 1, 6) })
        {
            var request = Inputs(session, rows, seed);

            var result = model.RunBatch([request], outputs);

            var expected = PlainRun(session, request, outputs);
            Assert.Equal(outputs.Length, result.Outputs[0].Length);
            for (var o = 0; o < outputs.Length; o++)
            {
                Assert.Equal(outputs[o], result.Outputs[0][o].Name);
                Assert.Equal(expected[o].Shape, result.Outputs[0][o].Shape);
                Assert.Equal(expected[o].Data, result.Outputs[0][o].Data);
            }
        }
    }

    [Fact]
    public void RunBatch_OutputShapeUnknownBeforeTheRun_BoundToMemoryOnnxRuntimeAllocates()
    {
        // y [N, -1]: only the batch dimension follows from the inputs, so ONNX Runtime allocates y.
        var file = Write("relu_any_width", new OnnxGraphBuilder("g").Input("x", DataType.Float, -1, -1).Output("y", DataType.Float, -1, -1)
            .Node("Relu", ["x"], ["y"]));
        using var model = new OnnxRuntimeModel(file, Cpu, maxBatchSize: 8);

        var batched = model.RunBatch(
            [[TensorData.FromFloat32("x", [-1f, 2f, -3f], 1, 3)], [TensorData.FromFloat32("x", [4f, -5f, 6f, -7f, 8f, 0.5f], 2, 3)]], ["y"]);

        Assert.True(model.BindsInputsAndOutputs);
        Assert.Equal([1L, 3L], batched.Outputs[0][0].Shape);
        Assert.Equal([0f, 2f, 0f], batched.Outputs[0][0].AsFloat32());
        Assert.Equal([2L, 3L], batched.Outputs[1][0].Shape);
        Assert.Equal([4f, 0f, 6f, 0f, 8f, 0.5f], batched.Outputs[1][0].AsFloat32());
    }

    [Fact]
    public void RunBatch_BatchesOfOtherWidths_OutputsOnnxRuntimeAllocatesTakeEachRunsShape()
    {
        // scaled [N, S]: ONNX Runtime allocates it, so a batch of as many rows but another width must not find the last one's output still bound.
        using var model = new OnnxRuntimeModel(ModelFile("int64_scale"), Cpu, maxBatchSize: 8);
        string[] outputs = ["scaled"];

        var wide = model.RunBatch([[TensorData.FromInt64("ids", [1, 2, 3, 4, 5], 1, 5)], [TensorData.FromInt64("ids", [0, 0, 0, 0, 1], 1, 5)]],
            outputs);
        var narrow = model.RunBatch([[TensorData.FromInt64("ids", [6, 7, 8], 1, 3)], [TensorData.FromInt64("ids", [0, 1, 0], 1, 3)]], outputs);

        Assert.Equal([1L, 5L], wide.Outputs[0][0].Shape);
        Assert.Equal([4L, 7L, 10L, 13L, 16L], wide.Outputs[0][0].AsInt64());
        Assert.Equal([1L, 3L], narrow.Outputs[0][0].Shape);
        Assert.Equal([19L, 22L, 25L], narrow.Outputs[0][0].AsInt64());
        Assert.Equal([1L, 4L, 1L], narrow.Outputs[1][0].AsInt64());
    }

    [Fact]
    public void Constructor_StringInputs_RunWithoutBinding()
    {
        using var model = new OnnxRuntimeModel(ModelFile("type_zoo"), Cpu, maxBatchSize: 8);

        Assert.False(model.BindsInputsAndOutputs);
    }

    [Fact]
    public void CudaGraph_ModelWithDynamicBatch_RefusedAtLoadNamingTheSettingAndInput()
    {
        var error = Assert.Throws<ModelUnavailableException>(() =>
            new OnnxRuntimeModel(ModelFile("tiny_classifier"), Cpu, cuda: new CudaProviderSettings { CudaGraph = true }));

        Assert.Contains("cuda.cuda_graph needs fixed input and output shapes", error.Message, StringComparison.Ordinal);
        Assert.Contains("input 'features' has shape [-1, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CudaGraph_FixedShapeModelOnCpu_RunsWithoutAGraphThroughHostBuffers()
    {
        var file = Write("relu_fixed", new OnnxGraphBuilder("g").Input("x", DataType.Float, 2, 2).Output("y", DataType.Float, 2, 2)
            .Node("Relu", ["x"], ["y"]));
        using var model = new OnnxRuntimeModel(file, Cpu, cuda: new CudaProviderSettings { CudaGraph = true });

        var first = model.Run([TensorData.FromFloat32("x", [-1f, 2f, 3f, -4f], 2, 2)], ["y"]);
        var second = model.Run([TensorData.FromFloat32("x", [5f, -6f, -7f, 8f], 2, 2)], ["y"]);

        Assert.True(model.BindsInputsAndOutputs);
        Assert.Equal([0f, 2f, 3f, 0f], first[0].AsFloat32());
        Assert.Equal([5f, 0f, 0f, 8f], second[0].AsFloat32());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Inputs for every model input: <paramref name="rows"/> in the first dimension, 3 in other dynamic ones, values from the seed.</summary>
    private static TensorData[] Inputs(InferenceSession session, int rows, int seed)
    {
        var random = new Random(seed);
        return [.. session.InputMetadata.Select(input =>
        {
            var shape = input.Value.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? rows : 3L).ToArray();
            var count = (int)TensorShape.ElementCount(shape);
            return input.Value.ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64
                ? TensorData.FromInt64(input.Key, [.. Enumerable.Range(0, count).Select(_ => (long)random.Next(-100, 100))], shape)
                : TensorData.FromFloat32(input.Key, [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))], shape);
        })];
    }

    /// <summary>The outputs of a plain <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue},
    /// IReadOnlyCollection{string})"/> of one request.</summary>
    private static TensorData[] PlainRun(InferenceSession session, TensorData[] inputs, string[] outputs)
    {
        var pins = new System.Buffers.MemoryHandle[inputs.Length];
        var values = inputs.Select((t, i) => OrtTensorBridge.ToOrtValue(t, out pins[i])).ToArray();
        try
        {
            using var options = new RunOptions();
            using var results = session.Run(options, inputs.Select(i => i.Name).ToArray(), values, outputs);
            return [.. results.Select((r, i) => OrtTensorBridge.FromOrtValue(outputs[i], r))];
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }
        }
    }

    private static string ModelFile(string model) => Path.Combine(RepositoryPaths.Models, model, "1", "model.onnx");

    private string Write(string name, OnnxGraphBuilder graph)
    {
        var file = Path.Combine(_folder, name + ".onnx");
        File.WriteAllBytes(file, graph.Build(name).ToByteArray());
        return file;
    }
}
