using Cluster.Inference.Devices;
using Cluster.Inference.Generation;

namespace Cluster.Inference.Tests.Generation;

/// <summary>The ONNX runner against the managed reference, step by step, with rows joining, leaving and prefilling in chunks.</summary>
public sealed class OnnxDecoderRunnerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("decoder-runner-").FullName;

    [Fact]
    public void Run_MixedStepsOfDecodeAndPrefillRows_LogitsMatchTheReference()
    {
        DemoDecoder.Write(_root);
        using var runner = new OnnxDecoderRunner(Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx"), DeviceDescriptor.Cpu);
        using var reference = new ReferenceDecoder();
        var positions = new Dictionary<long, int>();
        var random = new Random(3);

        // Step by step: sequence 1 prefills 9 tokens in two chunks, 2 and 3 join later, 2 leaves, 3 prefills while 1 decodes.
        StepRow[][] steps =
        [
            [Row(1, 5, positions, random)],
            [Row(1, 4, positions, random), Row(2, 3, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random)],
            [Row(2, 1, positions, random), Row(3, 6, positions, random), Row(1, 1, positions, random)],
            [Row(1, 1, positions, random), Row(3, 1, positions, random)],
            [Row(1, 1, positions, random), Row(3, 1, positions, random)],
        ];
        long copied = 0;
        foreach (var step in steps)
        {
            var actual = runner.Run(step);
            var expected = reference.Run(step);
            copied += actual.KvBytesCopied;
            for (var r = 0; r < step.Length; r++)
            {
                var a = actual.Row(r);
                var e = expected.Row(r);
                for (var v = 0; v < a.Length; v++)
                {
                    Assert.True(Math.Abs(a[v] - e[v]) <= 1e-4, $"sequence {step[r].SequenceId}, logit {v}: {a[v]} vs {e[v]}");
                }
            }
        }

        // Steps 6 and 7 repeat the previous decode rows, so only the joins and leaves copied the cache.
        Assert.True(copied > 0);
    }

    [Fact]
    public void Run_PromptChunkOfOneTokenThenALongerOne_ContinuesFromTheDecodeGroup()
    {
        DemoDecoder.Write(_root);
        using var runner = new OnnxDecoderRunner(Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx"), DeviceDescriptor.Cpu);
        using var reference = new ReferenceDecoder();
        var positions = new Dictionary<long, int>();
        var random = new Random(5);

        // Sequence 2's prompt gets the step budget's last token (a one-token chunk runs with the decode rows), then a longer chunk.
        StepRow[][] steps =
        [
            [Row(1, 5, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random)],
            [Row(1, 1, positions, random), Row(2, 4, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random)],
        ];
        foreach (var step in steps)
        {
            var actual = runner.Run(step);
            var expected = reference.Run(step);
            for (var r = 0; r < step.Length; r++)
            {
                Assert.True(MaxDifference(actual.Row(r), expected.Row(r)) <= 1e-4, $"sequence {step[r].SequenceId} at {step[r].Position}");
            }
        }
    }

    [Fact]
    public void Run_Fp16CachesAndLogits_MatchTheFp32DecoderWithinHalfPrecision()
    {
        DemoDecoder.Write(_root);
        var fp32Path = Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx");
        var fp16Path = Path.Combine(_root, "fp16.onnx");
        using (var file = File.Create(fp16Path))
        {
            Google.Protobuf.MessageExtensions.WriteTo(Fp16DecoderVariant.From(DemoDecoder.Build()), file);
        }

        using var fp32 = new OnnxDecoderRunner(fp32Path, DeviceDescriptor.Cpu);
        using var fp16 = new OnnxDecoderRunner(fp16Path, DeviceDescriptor.Cpu);
        Assert.Equal(2, fp16.Shape.BytesPerElement);
        var positions = new Dictionary<long, int>();
        var random = new Random(9);
        StepRow[][] steps =
        [
            [Row(1, 12, positions, random), Row(2, 7, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random)],
            [Row(1, 1, positions, random), Row(2, 1, positions, random), Row(3, 9, positions, random)],
            [Row(1, 1, positions, random), Row(3, 1, positions, random)],
        ];
        double worst = 0;
        foreach (var step in steps)
        {
            var expected = fp32.Run(step);
            var actual = fp16.Run(step);
            for (var r = 0; r < step.Length; r++)
            {
                worst = Math.Max(worst, MaxDifference(actual.Row(r), expected.Row(r)));
            }
        }

        // Logits near 40 have a half-precision step of 1/32; the FP16 cache adds its own rounding.
        Assert.True(worst <= 0.25, $"FP16 logits differ from FP32 by up to {worst}.");
    }

    [Fact]
    public void Run_SameDecodeRowsAsTheStepBefore_CopiesNothing()
    {
        DemoDecoder.Write(_root);
        using var runner = new OnnxDecoderRunner(Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx"), DeviceDescriptor.Cpu);
        runner.Run([new StepRow(1, new[] { 10, 11, 12 }, 0, true), new StepRow(2, new[] { 13, 14, 15 }, 0, true)]);
        runner.Run([new StepRow(1, new[] { 16 }, 3, true), new StepRow(2, new[] { 17 }, 3, true)]);

        var output = runner.Run([new StepRow(1, new[] { 18 }, 4, true), new StepRow(2, new[] { 19 }, 4, true)]);

        Assert.Equal(0, output.KvBytesCopied);
    }

    [Fact]
    public void Run_PositionTheCacheDoesNotHold_Throws()
    {
        DemoDecoder.Write(_root);
        using var runner = new OnnxDecoderRunner(Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx"), DeviceDescriptor.Cpu);
        runner.Run([new StepRow(1, new[] { 10, 11 }, 0, true)]);

        var error = Assert.Throws<InvalidOperationException>(() => runner.Run([new StepRow(1, new[] { 12 }, 5, true)]));

        Assert.Contains("position 5", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static double MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double worst = 0;
        for (var v = 0; v < a.Length; v++)
        {
            worst = Math.Max(worst, Math.Abs(a[v] - b[v]));
        }

        return worst;
    }

    private static StepRow Row(long sequence, int count, Dictionary<long, int> positions, Random random)
    {
        var tokens = Enumerable.Range(0, count).Select(_ => random.Next(50_000)).ToArray();
        var position = positions.GetValueOrDefault(sequence);
        positions[sequence] = position + count;
        return new StepRow(sequence, tokens, position, true);
    }
}
