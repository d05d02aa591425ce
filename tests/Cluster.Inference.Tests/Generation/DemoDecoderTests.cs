using Cluster.Inference.Generation;
using Google.Protobuf;
using Xunit.Abstractions;
using W = Cluster.Inference.Generation.DemoDecoderWeights;

namespace Cluster.Inference.Tests.Generation;

public sealed class DemoDecoderTests(ITestOutputHelper output) : IDisposable
{
    private const float Tolerance = 1e-4f;

    // "The quick brown fox jumps over the" in GPT-2's BPE.
    private static readonly int[] _prompt = [464, 2068, 7586, 21831, 18045, 625, 262];

    private readonly OrtDecoderSession _ort = new();

    [Fact]
    public void Build_Twice_IdenticalBytes()
    {
        var first = DemoDecoder.Build().ToByteArray();
        var second = DemoDecoder.Build().ToByteArray();

        Assert.Equal(first, second);
        Assert.InRange(first.Length, 6_000_000, 7_000_000);
    }

    [Fact]
    public void Weights_LongerContext_SamePositionsThenMore()
    {
        var standard = DemoDecoder.Weights();
        var longer = DemoDecoder.Weights(2 * W.Context);

        Assert.Equal(2 * W.Context * W.Model, longer.PositionEmbedding.Length);
        Assert.Equal(standard.PositionEmbedding, longer.PositionEmbedding[..(W.Context * W.Model)]);
        Assert.Equal(standard.TokenEmbedding, longer.TokenEmbedding);
    }

    [Fact]
    public void Write_LongerContext_ConfigSaysItAndThePastPositionsRun()
    {
        var root = Directory.CreateTempSubdirectory("tiny-gpt-long-").FullName;
        try
        {
            DemoDecoder.Write(root, contextLength: 2048);

            var config = Cluster.Inference.Repository.ModelConfigReader.Read(Path.Combine(root, DemoDecoder.Name, "config.json"));
            Assert.Equal(2048, config.Generation!.ContextLength);
            using var runner = new OnnxDecoderRunner(Path.Combine(root, DemoDecoder.Name, "1", "model.onnx"), Cluster.Inference.Devices.DeviceDescriptor.Cpu);
            var prompt = Enumerable.Range(0, 1500).Select(i => 256 + (i * 37 % 40000)).ToArray();
            var logits = runner.Run([new StepRow(1, prompt, 0, WantLogits: true)]).Row(0).ToArray();
            Assert.All(logits, l => Assert.True(float.IsFinite(l)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Write_EmptyRepository_WritesConfigAndModelOnce()
    {
        var root = Directory.CreateTempSubdirectory("tiny-gpt-").FullName;
        try
        {
            Assert.True(DemoDecoder.EnsureWritten(root));
            var model = Path.Combine(root, DemoDecoder.Name, "1", "model.onnx");
            var written = File.GetLastWriteTimeUtc(model);

            Assert.False(DemoDecoder.EnsureWritten(root));
            Assert.Equal(DemoDecoder.ConfigJson, File.ReadAllText(Path.Combine(root, DemoDecoder.Name, "config.json")));
            Assert.Equal(DemoDecoder.Build().ToByteArray(), File.ReadAllBytes(model));
            Assert.Equal(written, File.GetLastWriteTimeUtc(model));
            Assert.Equal(["model.onnx"], Directory.GetFiles(Path.GetDirectoryName(model)!).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Session_PrefillThenDecode_MatchesReference()
    {
        using var reference = new ReferenceDecoder();
        var pass = _ort.RunAlone(_prompt, OrtDecoderSession.EmptyPast(), pastLength: 0);
        var expected = reference.Prefill(1, _prompt);
        var logits = pass.TokenLogits(_prompt.Length, 0, _prompt.Length - 1);
        AssertClose(expected, logits);
        var position = _prompt.Length;

        for (var step = 0; step < 3; step++)
        {
            var next = ArgMax(logits);
            Assert.Equal(ArgMax(expected), next);
            pass = _ort.RunAlone([next], pass.Present, position);
            expected = reference.Run([new StepRow(1, new[] { next }, position, WantLogits: true)]).Logits;
            logits = pass.TokenLogits(1, 0, 0);
            AssertClose(expected, logits);
            position++;
            Assert.Equal(position, pass.Total);
        }
    }

    [Fact]
    public void Session_PaddedBatchOfUnequalRows_MatchesEachRowAlone()
    {
        int[] a = [464, 2068, 7586, 21831, 18045], b = [15496, 995, 11];
        int[] aNext = [625, 262], bNext = [314];

        // Step 1: both prompts from an empty past; b is right-padded to a's length and its pad masked.
        var prefill = _ort.Run(
            2,
            [.. a.Select(t => (long)t), .. b.Select(t => (long)t), 0, 0],
            [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
            [0, 1, 2, 3, 4, 0, 1, 2, 0, 0],
            OrtDecoderSession.EmptyPast());
        var aAlone = _ort.RunAlone(a, OrtDecoderSession.EmptyPast(), 0);
        var bAlone = _ort.RunAlone(b, OrtDecoderSession.EmptyPast(), 0);
        for (var t = 0; t < a.Length; t++)
        {
            AssertClose(aAlone.TokenLogits(a.Length, 0, t), prefill.TokenLogits(a.Length, 0, t));
        }

        for (var t = 0; t < b.Length; t++)
        {
            AssertClose(bAlone.TokenLogits(b.Length, 0, t), prefill.TokenLogits(a.Length, 1, t));
        }

        AssertFinite(prefill.Logits);

        // Step 2: b's past is left-padded with zeros to a's length; b feeds one token, right-padded to two.
        var past = new float[2 * W.LayerCount][];
        var aCache = prefill.RowCache(0, 0, a.Length);
        var bCache = prefill.RowCache(1, 0, b.Length);
        for (var p = 0; p < past.Length; p++)
        {
            var bPadded = new float[W.KvHeads * a.Length * W.HeadSize];
            for (var head = 0; head < W.KvHeads; head++)
            {
                bCache[p].AsSpan(head * b.Length * W.HeadSize, b.Length * W.HeadSize)
                    .CopyTo(bPadded.AsSpan(((head * a.Length) + (a.Length - b.Length)) * W.HeadSize));
            }

            past[p] = [.. aCache[p], .. bPadded];
        }

        var decode = _ort.Run(
            2,
            [aNext[0], aNext[1], bNext[0], 0],
            [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0],
            [5, 6, 3, 0],
            past);
        var aContinued = _ort.RunAlone(aNext, aAlone.Present, a.Length);
        var bContinued = _ort.RunAlone(bNext, bAlone.Present, b.Length);
        AssertClose(aContinued.TokenLogits(2, 0, 0), decode.TokenLogits(2, 0, 0));
        AssertClose(aContinued.TokenLogits(2, 0, 1), decode.TokenLogits(2, 0, 1));
        AssertClose(bContinued.TokenLogits(1, 0, 0), decode.TokenLogits(2, 1, 0));
        AssertFinite(decode.Logits);
        AssertClose(bContinued.RowCache(0, 0, b.Length + 1)[0], decode.RowCache(1, a.Length - b.Length, b.Length + 1)[0]);
    }

    [Fact]
    public void GreedyDecode_64Tokens_ReferenceAndSessionAgree()
    {
        using var reference = new ReferenceDecoder();
        var referenceIds = new List<int>();
        var logits = reference.Prefill(7, _prompt);
        for (var i = 0; i < 64; i++)
        {
            referenceIds.Add(ArgMax(logits));
            logits = reference.Run([new StepRow(7, new[] { referenceIds[^1] }, _prompt.Length + i, WantLogits: true)]).Logits;
        }

        var (ortIds, smallestGap) = GreedyOrt(_prompt, 64);

        Assert.Equal(referenceIds, ortIds);
        output.WriteLine($"ids: {string.Join(' ', ortIds)}; smallest top-1/top-2 gap {smallestGap:G4}");
        Assert.True(smallestGap > 1e-3, $"smallest top-1/top-2 gap {smallestGap}");
    }

    [Fact]
    public void GreedyDecode_SeveralPrompts_TopTwoLogitsStayApart()
    {
        int[][] prompts = [_prompt, [15496, 995], [50256], [40, 1842, 257, 3290, 13, 198, 198, 464]];
        var smallest = float.MaxValue;
        var distinct = new HashSet<int>();
        foreach (var prompt in prompts)
        {
            var (ids, gap) = GreedyOrt(prompt, 100);
            smallest = Math.Min(smallest, gap);
            distinct.UnionWith(ids);
        }

        output.WriteLine($"smallest top-1/top-2 gap over {prompts.Length * 100} steps: {smallest:G4}; {distinct.Count} distinct tokens");
        Assert.True(smallest > 1e-3, $"smallest top-1/top-2 gap {smallest}");
        Assert.True(distinct.Count > 20, $"only {distinct.Count} distinct tokens generated");
    }

    public void Dispose() => _ort.Dispose();

    private (List<int> Ids, float SmallestGap) GreedyOrt(int[] prompt, int count)
    {
        var ids = new List<int>();
        var pass = _ort.RunAlone(prompt, OrtDecoderSession.EmptyPast(), 0);
        var logits = pass.TokenLogits(prompt.Length, 0, prompt.Length - 1);
        var smallestGap = float.MaxValue;
        for (var i = 0; i < count; i++)
        {
            smallestGap = Math.Min(smallestGap, TopTwoGap(logits));
            ids.Add(ArgMax(logits));
            pass = _ort.RunAlone([ids[^1]], pass.Present, prompt.Length + i);
            logits = pass.TokenLogits(1, 0, 0);
        }

        return (ids, smallestGap);
    }

    private void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        var worstAt = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(expected[i] - actual[i]);
            if (!(difference <= worst))
            {
                (worst, worstAt) = (difference, i);
            }
        }

        output.WriteLine($"largest logit difference {worst:G3}");
        Assert.True(worst <= Tolerance, $"logit {worstAt} differs by {worst}: expected {expected[worstAt]}, got {actual[worstAt]}");
    }

    private static void AssertFinite(float[] values) => Assert.DoesNotContain(values, v => !float.IsFinite(v));

    private static int ArgMax(float[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static float TopTwoGap(float[] values)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v > first)
            {
                (first, second) = (v, first);
            }
            else if (v > second)
            {
                second = v;
            }
        }

        return first - second;
    }
}
