using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Onnx.Proto;
using Cluster.Tests.Shared;

namespace Cluster.Inference.Tests.Execution;

/// <summary>ONNX Runtime's outputs on the demo models against references computed here in plain managed maths.</summary>
public sealed class OnnxRuntimeModelTests
{
    private static readonly DeviceDescriptor Cpu = DeviceDescriptor.Cpu;

    [Fact]
    public void TinyClassifier_MatchesManagedReference()
    {
        float[] x = [1f, 2f, 3f, 4f, -0.5f, 0.25f, 0f, 2.5f];
        var outputs = Run("tiny_classifier", [TensorData.FromFloat32("features", x, 2, 4)], ["probabilities"]);

        var onnx = Load("tiny_classifier");
        var h = ReferenceMaths.Relu(
            ReferenceMaths.Dense(Array.ConvertAll(x, v => (double)v), 2, ReferenceMaths.Weights(onnx, "w1"), ReferenceMaths.Weights(onnx, "b1")));
        var expected = ReferenceMaths.Softmax(ReferenceMaths.Dense(h, 2, ReferenceMaths.Weights(onnx, "w2"), ReferenceMaths.Weights(onnx, "b2")), 2);
        Assert.Equal([2L, 3L], outputs[0].Shape);
        ReferenceMaths.AssertClose(expected, outputs[0].AsFloat32());
    }

    [Fact]
    public void WideMlp_MatchesManagedReference()
    {
        const int Batch = 3;
        var x = new float[Batch * 256];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Sin(i * 0.37f);
        }

        var outputs = Run("wide_mlp", [TensorData.FromFloat32("input", x, Batch, 256)], ["logits"]);

        var onnx = Load("wide_mlp");
        var h = Array.ConvertAll(x, v => (double)v);
        for (var layer = 0; layer < 3; layer++)
        {
            h = ReferenceMaths.Dense(h, Batch, ReferenceMaths.Weights(onnx, $"w{layer}_fp16"), ReferenceMaths.Weights(onnx, $"b{layer}_fp16"));
            h = layer < 2 ? ReferenceMaths.Relu(h) : h;
        }

        Assert.Equal([3L, 10L], outputs[0].Shape);
        ReferenceMaths.AssertClose(h, outputs[0].AsFloat32());
    }

    [Fact]
    public void TwoInTwoOut_ReturnsSumAndProduct()
    {
        float[] a = [1f, 2f, 3f, 4f];
        float[] b = [0.5f, -2f, 10f, 0f];
        var outputs = Run("two_in_two_out", [TensorData.FromFloat32("a", a, 1, 4), TensorData.FromFloat32("b", b, 1, 4)], ["sum", "product"]);
        Assert.Equal([1.5f, 0f, 13f, 4f], outputs[0].AsFloat32());
        Assert.Equal([0.5f, -4f, 30f, 0f], outputs[1].AsFloat32());
    }

    [Fact]
    public void Int64Scale_ComputesIdsTimesThreePlusOne()
    {
        long[] ids = [0, 1, -7, 1L << 40, 5, 6];
        var outputs = Run("int64_scale", [TensorData.FromInt64("ids", ids, 2, 3)], ["scaled"]);
        Assert.Equal([2L, 3L], outputs[0].Shape);
        Assert.Equal(Array.ConvertAll(ids, v => (v * 3) + 1), outputs[0].AsInt64());
    }

    [Fact]
    public void TypeZoo_CarriesEveryElementType()
    {
        var outputs = Run(
            "type_zoo",
            [
                TensorData.FromFloat16("halves", [(Half)1.5f, (Half)(-2f)], 1, 2),
                TensorData.FromBool("flags", [true, false], 1, 2),
                TensorData.FromUInt8("pixels", [0, 255], 1, 2),
                TensorData.FromInt32("counts", [41, -1], 1, 2),
                TensorData.FromStrings("text", ["héllo", ""], 1, 2),
            ],
            ["halves_as_float", "flags_inverted", "pixels_echo", "counts_plus_one", "text_echo"]);
        Assert.Equal([1.5f, -2f], outputs[0].AsFloat32());
        Assert.Equal([false, true], outputs[1].AsBool());
        Assert.Equal([(byte)0, (byte)255], outputs[2].AsUInt8());
        Assert.Equal([42, 0], outputs[3].AsInt32());
        Assert.Equal(["héllo", ""], outputs[4].AsStrings());
    }

    [Fact]
    public void Constructor_CorruptFile_ThrowsOnnxRuntimeMessage()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "not onnx");
        var error = Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => new OnnxRuntimeModel(file, Cpu));
        Assert.Contains("protobuf", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static TensorData[] Run(string model, TensorData[] inputs, string[] outputs)
    {
        using var loaded = new OnnxRuntimeModel(ModelFile(model), Cpu);
        return loaded.Run(inputs, outputs);
    }

    private static ModelProto Load(string model) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(ModelFile(model)));

    private static string ModelFile(string model) => Path.Combine(RepositoryPaths.Models, model, "1", "model.onnx");
}
