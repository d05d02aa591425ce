using Cluster.Inference.Onnx.Proto;
using Google.Protobuf;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Onnx;

/// <summary>A demo model: its name, its <c>config.json</c> text and its ONNX graph.</summary>
public sealed record DemoModel(string Name, string ConfigJson, ModelProto Onnx);

/// <summary>
/// The demo models in <c>deploy/models</c>, built by code so they are reproducible and small
/// enough to commit. Weights come from <see cref="DeterministicWeights"/>.
/// </summary>
public static class DemoModels
{
    /// <summary>Every demo model.</summary>
    public static IReadOnlyList<DemoModel> All { get; } =
    [
        TinyClassifier(),
        WideMlp(),
        TwoInTwoOut(),
        Int64Scale(),
        TypeZoo(),
    ];

    /// <summary>Writes every demo model as <c>&lt;dir&gt;/&lt;model&gt;/1/model.onnx</c> plus <c>config.json</c>.</summary>
    public static void WriteAll(string repositoryPath)
    {
        foreach (var model in All)
        {
            var versionDir = Path.Combine(repositoryPath, model.Name, "1");
            Directory.CreateDirectory(versionDir);
            File.WriteAllBytes(Path.Combine(versionDir, "model.onnx"), model.Onnx.ToByteArray());
            File.WriteAllText(Path.Combine(repositoryPath, model.Name, "config.json"), model.ConfigJson);
        }
    }

    /// <summary>The demo models that have MatMul/Gemm weights, so INT8 and FP16 variants of them mean something.</summary>
    public static IReadOnlyList<string> WithVariants { get; } = ["tiny_classifier", "wide_mlp"];

    /// <summary>
    /// Writes <c>model.fp16.onnx</c> and <c>model.int8.onnx</c> beside version 1 of each model in <see cref="WithVariants"/>.
    /// They are not part of the committed repository: a CPU replica would serve the INT8 file, and the demo models'
    /// outputs are compared exactly by tests and clients; an operator adds them with this or <c>cluster quantize</c>.
    /// </summary>
    public static void WriteVariants(string repositoryPath)
    {
        foreach (var model in All.Where(m => WithVariants.Contains(m.Name)))
        {
            var versionDir = Path.Combine(repositoryPath, model.Name, "1");
            Directory.CreateDirectory(versionDir);
            File.WriteAllBytes(Path.Combine(versionDir, "model.fp16.onnx"), Fp16Converter.Convert(model.Onnx).ToByteArray());
            File.WriteAllBytes(Path.Combine(versionDir, "model.int8.onnx"), Int8Quantizer.Quantize(model.Onnx).Model.ToByteArray());
        }
    }

    /// <summary>features FP32 [N,4] → Gemm(4→8) → Relu → Gemm(8→3) → Softmax → probabilities FP32 [N,3].</summary>
    private static DemoModel TinyClassifier()
    {
        var weights = new DeterministicWeights(seed: 1);
        var graph = new OnnxGraphBuilder("tiny_classifier")
            .Input("features", DataType.Float, -1, 4)
            .Output("probabilities", DataType.Float, -1, 3)
            .Initializer("w1", weights.Uniform(4 * 8, DeterministicWeights.ScaleFor(4)), 4, 8)
            .Initializer("b1", weights.Uniform(8, 0.1f), 8)
            .Initializer("w2", weights.Uniform(8 * 3, DeterministicWeights.ScaleFor(8)), 8, 3)
            .Initializer("b2", weights.Uniform(3, 0.1f), 3)
            .Node("Gemm", ["features", "w1", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["r1"])
            .Node("Gemm", ["r1", "w2", "b2"], ["logits"])
            .Node("Softmax", ["logits"], ["probabilities"], ("axis", 1L));
        return new DemoModel("tiny_classifier", Config(maxBatchSize: 8), graph.Build("A 4→8→3 MLP classifier with softmax output."));
    }

    /// <summary>
    /// input FP32 [N,256] → 1024 → 1024 → logits FP32 [N,10], Relu between layers. Weights are
    /// stored as float16 and cast to float32 in the graph (folded at session start), halving the file.
    /// </summary>
    private static DemoModel WideMlp()
    {
        var weights = new DeterministicWeights(seed: 2);
        var graph = new OnnxGraphBuilder("wide_mlp")
            .Input("input", DataType.Float, -1, 256)
            .Output("logits", DataType.Float, -1, 10);
        var sizes = new[] { 256, 1024, 1024, 10 };
        var current = "input";
        for (var layer = 0; layer < sizes.Length - 1; layer++)
        {
            int fanIn = sizes[layer], fanOut = sizes[layer + 1];
            var w = ToHalf(weights.Uniform(fanIn * fanOut, DeterministicWeights.ScaleFor(fanIn)));
            var b = ToHalf(weights.Uniform(fanOut, 0.1f));
            graph.Initializer($"w{layer}_fp16", w, fanIn, fanOut)
                .Initializer($"b{layer}_fp16", b, fanOut)
                .Node("Cast", [$"w{layer}_fp16"], [$"w{layer}"], ("to", (long)DataType.Float))
                .Node("Cast", [$"b{layer}_fp16"], [$"b{layer}"], ("to", (long)DataType.Float));
            var isLast = layer == sizes.Length - 2;
            var gemmOut = isLast ? "logits" : $"h{layer}";
            graph.Node("Gemm", [current, $"w{layer}", $"b{layer}"], [gemmOut]);
            if (!isLast)
            {
                graph.Node("Relu", [gemmOut], [$"r{layer}"]);
                current = $"r{layer}";
            }
        }

        // One thread per run: a server's request path shares the cores with the session, and a run split across threads waits for
        // whichever of them another thread preempted.
        return new DemoModel("wide_mlp", Config(maxBatchSize: 64, intraOpThreads: 1),
            graph.Build("A 256→1024→1024→10 MLP for benchmarks (float16-stored weights, float32 compute)."));
    }

    /// <summary>a, b FP32 [N,4] → sum = a + b, product = a * b.</summary>
    private static DemoModel TwoInTwoOut()
    {
        var graph = new OnnxGraphBuilder("two_in_two_out")
            .Input("a", DataType.Float, -1, 4)
            .Input("b", DataType.Float, -1, 4)
            .Output("sum", DataType.Float, -1, 4)
            .Output("product", DataType.Float, -1, 4)
            .Node("Add", ["a", "b"], ["sum"])
            .Node("Mul", ["a", "b"], ["product"]);
        return new DemoModel("two_in_two_out", Config(maxBatchSize: 8), graph.Build("Two inputs, two outputs: element-wise sum and product."));
    }

    /// <summary>ids INT64 [N,S] → scaled = ids * 3 + 1 (INT64 [N,S]).</summary>
    private static DemoModel Int64Scale()
    {
        var graph = new OnnxGraphBuilder("int64_scale")
            .Input("ids", DataType.Int64, -1, -1)
            .Output("scaled", DataType.Int64, -1, -1)
            .Initializer("three", [3L])
            .Initializer("one", [1L])
            .Node("Mul", ["ids", "three"], ["tripled"])
            .Node("Add", ["tripled", "one"], ["scaled"]);
        return new DemoModel("int64_scale", Config(maxBatchSize: 8), graph.Build("An int64 input of any length: scaled = ids * 3 + 1."));
    }

    /// <summary>One input and output per SDK element type: FP16, BOOL, UINT8, INT32 and STRING.</summary>
    private static DemoModel TypeZoo()
    {
        var graph = new OnnxGraphBuilder("type_zoo")
            .Input("halves", DataType.Float16, -1, 2)
            .Input("flags", DataType.Bool, -1, 2)
            .Input("pixels", DataType.Uint8, -1, 2)
            .Input("counts", DataType.Int32, -1, 2)
            .Input("text", DataType.String, -1, 2)
            .Output("halves_as_float", DataType.Float, -1, 2)
            .Output("flags_inverted", DataType.Bool, -1, 2)
            .Output("pixels_echo", DataType.Uint8, -1, 2)
            .Output("counts_plus_one", DataType.Int32, -1, 2)
            .Output("text_echo", DataType.String, -1, 2)
            .Initializer("one_i32", [1])
            .Node("Cast", ["halves"], ["halves_as_float"], ("to", (long)DataType.Float))
            .Node("Not", ["flags"], ["flags_inverted"])
            .Node("Identity", ["pixels"], ["pixels_echo"])
            .Node("Add", ["counts", "one_i32"], ["counts_plus_one"])
            .Node("Identity", ["text"], ["text_echo"]);
        return new DemoModel("type_zoo", Config(maxBatchSize: 8),
            graph.Build("Exercises every SDK element type: FP16 cast, BOOL not, UINT8 and STRING echo, INT32 + 1."));
    }

    /// <summary>A demo model's config.json; <paramref name="intraOpThreads"/> above 0 sets its <c>intra_op_threads</c>.</summary>
    private static string Config(int maxBatchSize, int intraOpThreads = 0)
    {
        var threads = intraOpThreads > 0 ? $"\n  \"intra_op_threads\": {intraOpThreads}," : "";
        return $$"""
            {
              "max_batch_size": {{maxBatchSize}},
              "instance_count": 1,{{threads}}
              "device_kinds": ["cuda", "cpu", "sim"],
              "version_policy": { "latest": { "num_versions": 1 } }
            }

            """;
    }

    private static Half[] ToHalf(float[] values)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return halves;
    }
}
