using System.Text.Json;
using Cluster.Contracts.Errors;
using Cluster.Inference.Execution;
using Cluster.Inference.Onnx;
using Cluster.Inference.Onnx.Proto;
using Cluster.Inference.Repository;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace Cluster.Inference.Tests.Onnx;

/// <summary>The INT8 and FP16 variants the project writes, run by ONNX Runtime against their FP32 file.</summary>
public sealed class VariantWritersTests : IDisposable
{
    private static readonly float[] OneLayerWeight = [1f, 0.5f, -0.25f, -1f, 2f, 0.75f, 0.3f, -0.6f, 0.1f, 0.9f, -1.2f, 0.05f];

    private readonly string _folder = Directory.CreateTempSubdirectory("variants-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// The wide MLP already stores float16 weights, and ONNX Runtime's CPU provider runs float16 MatMul/Gemm by casting to
    /// float32, so its FP16 variant computes exactly what FP32 does on a CPU; the classifier's weights round to float16.
    /// </summary>
    [Theory]
    [InlineData("tiny_classifier", "int8", 1e-6, 0.02, 0.95)]
    [InlineData("tiny_classifier", "fp16", 1e-6, 0.002, 0.99)]
    [InlineData("wide_mlp", "int8", 1e-6, 0.05, 0.95)]
    [InlineData("wide_mlp", "fp16", 0, 0.01, 0.99)]
    public void DemoVariant_FollowsFp32WithinTolerance(string model, string variant, double minDifference, double maxDifference, double minAgreement)
    {
        DemoModels.WriteAll(_folder);
        DemoModels.WriteVariants(_folder);
        var version = Path.Combine(_folder, model, "1");

        var accuracy = VariantAccuracy.Measure(Path.Combine(version, "model.onnx"), Path.Combine(version, $"model.{variant}.onnx"), samples: 256);

        Assert.Equal(256, accuracy.Samples);
        Assert.InRange(accuracy.MaxAbsDifference, minDifference, maxDifference);
        Assert.InRange(accuracy.Top1Agreement, minAgreement, 1.0);
    }

    [Fact]
    public void Int8_OneLayerModel_ReportMatchesTheQuantisationComputedByHand()
    {
        var fp32 = OneLayer();
        var (int8, quantized) = Int8Quantizer.Quantize(fp32);
        var (fp32File, int8File) = (Path.Combine(_folder, "model.onnx"), Path.Combine(_folder, "model.int8.onnx"));
        File.WriteAllBytes(fp32File, fp32.ToByteArray());
        File.WriteAllBytes(int8File, int8.ToByteArray());

        var report = VariantAccuracy.Measure(fp32File, int8File, samples: 64, seed: 11);

        var expected = HandQuantisedReport(OneLayerWeight, new DeterministicWeights(11).Uniform(64 * 4, 1f), rows: 64);
        Assert.Equal(1, quantized);
        Assert.DoesNotContain(int8.Graph.Initializer, t => t.Name == "w");
        Assert.Equal(expected.MaxAbsDifference, report.MaxAbsDifference, 1e-5);
        Assert.Equal(expected.Top1Agreement, report.Top1Agreement);
        Assert.True(report.MaxAbsDifference > 0, "quantisation leaves an error on these weights");
    }

    [Fact]
    public void Int8_GemmWithTransposedWeightAndBias_ComputesTheSameProduct()
    {
        // w is stored [N=2, K=3] and transposed by the node: y = x · wᵀ + b.
        var fp32 = new OnnxGraphBuilder("gemm_t")
            .Input("x", DataType.Float, -1, 3)
            .Output("y", DataType.Float, -1, 2)
            .Initializer("w", [0.5f, -1f, 0.25f, 1f, 0.75f, -0.5f], 2, 3)
            .Initializer("b", [10f, -10f], 2)
            .Node("Gemm", ["x", "w", "b"], ["y"], ("transB", 1L))
            .Build("gemm");
        var (fp32File, int8File) = (Path.Combine(_folder, "model.onnx"), Path.Combine(_folder, "model.int8.onnx"));
        File.WriteAllBytes(fp32File, fp32.ToByteArray());
        File.WriteAllBytes(int8File, Int8Quantizer.Quantize(fp32).Model.ToByteArray());

        var report = VariantAccuracy.Measure(fp32File, int8File, samples: 32);

        Assert.InRange(report.MaxAbsDifference, 0, 0.02);
        Assert.Equal(1.0, report.Top1Agreement);
    }

    [Fact]
    public void Int8_ValueReadOnlyInsideASubgraph_KeepsTheNodesThatProduceIt()
    {
        var model = new OnnxGraphBuilder("branching")
            .Input("x", DataType.Float, -1, 4)
            .Input("cond", DataType.Bool)
            .Output("y", DataType.Float, -1, 3)
            .Initializer("w", OneLayerWeight, 4, 3)
            .Node("MatMul", ["x", "w"], ["h"])
            .Node("If", ["cond"], ["y"])
            .Build("h is read by both branches only");
        foreach (var branch in new[] { "then_branch", "else_branch" })
        {
            var body = new OnnxGraphBuilder(branch).Output($"{branch}_out", DataType.Float, -1, 3).Node("Identity", ["h"], [$"{branch}_out"]).Build("").Graph;
            model.Graph.Node[^1].Attribute.Add(new AttributeProto { Name = branch, Type = AttributeProto.Types.AttributeType.Graph, G = body });
        }

        var (int8, quantized) = Int8Quantizer.Quantize(model);

        Assert.Equal(1, quantized);
        Assert.Contains(int8.Graph.Node, n => n.OpType == "Mul" && n.Output.Contains("h"));
        Assert.Contains(int8.Graph.Node, n => n.OpType == "If");
    }

    [Fact]
    public void Int8_ModelBeforeOpset11_IsRefusedNamingTheOpset()
    {
        var model = new OnnxGraphBuilder("old").Input("x", DataType.Float, -1, 2).Output("y", DataType.Float, -1, 2)
            .Node("Relu", ["x"], ["y"]).Build("old");
        model.OpsetImport[0].Version = 9;

        var error = Assert.Throws<ArgumentException>(() => Int8Quantizer.Quantize(model));

        Assert.Contains("opset 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_OneLayerModelInARepository_WritesTheFileAndTheReportItComputedByHand()
    {
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(_folder, "one_layer", "1")).FullName, "model.onnx"), OneLayer().ToByteArray());
        var repository = new ModelRepository(_folder, NullLogger<ModelRepository>.Instance);

        var report = VariantWriter.Write(repository, "one_layer", 1, "int8", "test-silo");

        var inputs = new DeterministicWeights(7).Uniform(VariantWriter.ReportSamples * 4, 1f);
        var expected = HandQuantisedReport(OneLayerWeight, inputs, VariantWriter.ReportSamples);
        Assert.Equal(expected.MaxAbsDifference, report.MaxAbsDifference, 1e-5);
        Assert.Equal(expected.Top1Agreement, report.Top1Agreement);
        Assert.Equal((1, VariantWriter.ReportSamples), (report.ConvertedNodes, report.Samples));
        Assert.Equal(Path.Combine(_folder, "one_layer", "1", "model.int8.onnx"), report.File);
        Assert.Equal(new FileInfo(report.File).Length, report.VariantBytes);
        using var json = JsonDocument.Parse(File.ReadAllText(report.File + ".report.json"));
        Assert.Equal(report.MaxAbsDifference, json.RootElement.GetProperty("max_abs_difference").GetDouble());
        Assert.Equal(report.Top1Agreement, json.RootElement.GetProperty("top1_agreement").GetDouble());
        Assert.Equal("test-silo", json.RootElement.GetProperty("silo").GetString());
        Assert.Equal(("int8", report.File), repository.VariantFile("one_layer", 1, "cpu"));
    }

    [Fact]
    public void Write_ModelWithWarmupRequests_MeasuresOnThemAndSaysSo()
    {
        var modelFolder = Path.Combine(_folder, "one_layer");
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(modelFolder, "1")).FullName, "model.onnx"), OneLayer().ToByteArray());
        float[] rows = [0.9f, -0.4f, 0.2f, 0.7f, -1f, 0.3f, 0.8f, -0.2f, 0.05f, 0.6f, -0.7f, 0.1f];
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(modelFolder, "warmup")).FullName, "x.bin"),
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.AsSpan()).ToArray());
        File.WriteAllText(Path.Combine(modelFolder, "config.json"), """
            {"max_batch_size": 8, "model_warmup": [{"name": "real", "batch_size": 3,
              "inputs": {"x": {"data_type": "TYPE_FP32", "dims": [4], "input_data_file": "x.bin"}}}]}
            """);
        var repository = new ModelRepository(_folder, NullLogger<ModelRepository>.Instance);

        var report = VariantWriter.Write(repository, "one_layer", 1, "int8", "test-silo");

        var expected = HandQuantisedReport(OneLayerWeight, rows, 3);
        Assert.Equal(("warmup", 3), (report.Inputs, report.Samples));
        Assert.Equal(expected.MaxAbsDifference, report.MaxAbsDifference, 1e-5);
        Assert.Equal(expected.Top1Agreement, report.Top1Agreement);
        using var json = JsonDocument.Parse(File.ReadAllText(report.File + ".report.json"));
        Assert.Equal("warmup", json.RootElement.GetProperty("inputs").GetString());
    }

    [Fact]
    public void Measure_SeveralWarmupRequests_ComparesEveryRowOfEach()
    {
        var (fp32File, int8File) = (Path.Combine(_folder, "model.onnx"), Path.Combine(_folder, "model.int8.onnx"));
        File.WriteAllBytes(fp32File, OneLayer().ToByteArray());
        File.WriteAllBytes(int8File, Int8Quantizer.Quantize(OneLayer()).Model.ToByteArray());
        var (first, second) = (new DeterministicWeights(3).Uniform(2 * 4, 1f), new DeterministicWeights(4).Uniform(5 * 4, 2f));
        WarmupRequest[] warmups =
        [
            new("a", [Contracts.Tensors.TensorData.FromFloat32("x", first, 2, 4)], 1),
            new("b", [Contracts.Tensors.TensorData.FromFloat32("x", second, 5, 4)], 1),
        ];

        var report = VariantAccuracy.Measure(fp32File, int8File, samples: 64, warmups: warmups);

        var (a, b) = (HandQuantisedReport(OneLayerWeight, first, 2), HandQuantisedReport(OneLayerWeight, second, 5));
        Assert.Equal((7, VariantAccuracy.WarmupInputs), (report.Samples, report.Inputs));
        Assert.Equal(Math.Max(a.MaxAbsDifference, b.MaxAbsDifference), report.MaxAbsDifference, 1e-5);
        Assert.Equal(((a.Top1Agreement * 2) + (b.Top1Agreement * 5)) / 7, report.Top1Agreement, 1e-9);
        Assert.Equal(VariantAccuracy.RandomInputs, VariantAccuracy.Measure(fp32File, int8File, samples: 8).Inputs);
    }

    [Theory]
    [InlineData("int4")]
    [InlineData("fp32")]
    public void Write_NotAWritableVariant_IsRefusedNamingIt(string variant)
    {
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(_folder, "one_layer", "1")).FullName, "model.onnx"), OneLayer().ToByteArray());

        var error = Assert.Throws<OperationRefusedException>(() =>
            VariantWriter.Write(new ModelRepository(_folder, NullLogger<ModelRepository>.Instance), "one_layer", 1, variant, "test-silo"));

        Assert.Equal($"Variant '{variant}' cannot be written; use int8 or fp16.", error.Message);
    }

    /// <summary>x [N,4] · w [4,3]: one MatMul whose INT8 error can be computed by hand.</summary>
    private static ModelProto OneLayer() => new OnnxGraphBuilder("one_layer")
        .Input("x", DataType.Float, -1, 4)
        .Output("y", DataType.Float, -1, 3)
        .Initializer("w", OneLayerWeight, 4, 3)
        .Node("MatMul", ["x", "w"], ["y"])
        .Build("x · w");

    /// <summary>
    /// ONNX's DynamicQuantizeLinear on the whole input (uint8, zero point from the range including 0), int8 weights with a
    /// symmetric scale per column, the integer product scaled back; compared with the float product.
    /// </summary>
    private static VariantAccuracy HandQuantisedReport(float[] weight, float[] x, int rows)
    {
        const int K = 4, N = 3;
        var (quantizedWeight, weightScales) = Int8Quantizer.PerColumn(weight, K, N);
        float min = MathF.Min(0, x.Min()), max = MathF.Max(0, x.Max());
        var scale = (max - min) / 255f;
        var zero = (int)Math.Clamp(MathF.Round(-min / scale, MidpointRounding.ToEven), 0, 255);
        var (maxDifference, agree) = (0.0, 0);
        for (var r = 0; r < rows; r++)
        {
            var (exact, quantized) = (new float[N], new float[N]);
            for (var n = 0; n < N; n++)
            {
                var sum = 0;
                for (var k = 0; k < K; k++)
                {
                    exact[n] += x[(r * K) + k] * weight[(k * N) + n];
                    var q = (int)Math.Clamp(MathF.Round(x[(r * K) + k] / scale, MidpointRounding.ToEven) + zero, 0, 255);
                    sum += (q - zero) * quantizedWeight[(k * N) + n];
                }

                quantized[n] = sum * (scale * weightScales[n]);
                maxDifference = Math.Max(maxDifference, Math.Abs(exact[n] - quantized[n]));
            }

            agree += Array.IndexOf(exact, exact.Max()) == Array.IndexOf(quantized, quantized.Max()) ? 1 : 0;
        }

        return new VariantAccuracy(rows, maxDifference, (double)agree / rows);
    }
}
