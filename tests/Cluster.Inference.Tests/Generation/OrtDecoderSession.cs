using Cluster.Inference.Generation;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using W = Cluster.Inference.Generation.DemoDecoderWeights;

namespace Cluster.Inference.Tests.Generation;

/// <summary>One raw forward pass of the demo decoder through ONNX Runtime.</summary>
/// <param name="Logits">[batch, seq, vocabulary].</param>
/// <param name="Present">present.{i}.key then present.{i}.value per layer, each [batch, kvHeads, past + seq, headSize].</param>
/// <param name="Total">past + seq.</param>
public sealed record DecoderPass(float[] Logits, float[][] Present, int Total)
{
    /// <summary>The logits of one token.</summary>
    public float[] TokenLogits(int seqLength, int row, int token) =>
        Logits.AsSpan(((row * seqLength) + token) * W.Vocabulary, W.Vocabulary).ToArray();

    /// <summary>One row's cache columns [from, from + count) of every present tensor, as a batch-of-one past.</summary>
    public float[][] RowCache(int row, int from, int count)
    {
        var caches = new float[Present.Length][];
        for (var p = 0; p < Present.Length; p++)
        {
            caches[p] = new float[W.KvHeads * count * W.HeadSize];
            for (var head = 0; head < W.KvHeads; head++)
            {
                Present[p].AsSpan((((row * W.KvHeads) + head) * Total * W.HeadSize) + (from * W.HeadSize), count * W.HeadSize)
                    .CopyTo(caches[p].AsSpan(head * count * W.HeadSize));
            }
        }

        return caches;
    }
}

/// <summary>An ONNX Runtime session over <see cref="DemoDecoder.Build"/>, fed with plain arrays.</summary>
public sealed class OrtDecoderSession : IDisposable
{
    private static readonly byte[] _modelBytes = DemoDecoder.Build().ToByteArray();
    private readonly InferenceSession _session;
    private readonly string[] _outputNames;

    /// <summary>Opens the session on the CPU.</summary>
    public OrtDecoderSession()
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(_modelBytes, options);
        _outputNames = ["logits", .. Enumerable.Range(0, W.LayerCount).SelectMany(i => new[] { $"present.{i}.key", $"present.{i}.value" })];
    }

    /// <summary>An empty past (length 0) for any batch size.</summary>
    public static float[][] EmptyPast() => [.. Enumerable.Range(0, 2 * W.LayerCount).Select(_ => Array.Empty<float>())];

    /// <summary>Runs one pass; ids, positions are [batch, seq], mask is [batch, past + seq], past tensors [batch, kvHeads, past, headSize].</summary>
    public DecoderPass Run(int batchSize, long[] ids, long[] mask, long[] positions, float[][] past)
    {
        var seq = ids.Length / batchSize;
        var total = mask.Length / batchSize;
        var pastLength = total - seq;
        var names = new List<string> { "input_ids", "attention_mask", "position_ids" };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(ids, [batchSize, seq]),
            OrtValue.CreateTensorValueFromMemory(mask, [batchSize, total]),
            OrtValue.CreateTensorValueFromMemory(positions, [batchSize, seq]),
        };
        for (var i = 0; i < W.LayerCount; i++)
        {
            names.Add($"past_key_values.{i}.key");
            values.Add(OrtValue.CreateTensorValueFromMemory(past[2 * i], [batchSize, W.KvHeads, pastLength, W.HeadSize]));
            names.Add($"past_key_values.{i}.value");
            values.Add(OrtValue.CreateTensorValueFromMemory(past[(2 * i) + 1], [batchSize, W.KvHeads, pastLength, W.HeadSize]));
        }

        try
        {
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, _outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            var present = outputs.Skip(1).Select(o => o.GetTensorDataAsSpan<float>().ToArray()).ToArray();
            return new DecoderPass(logits, present, total);
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Runs a batch of one: <paramref name="tokens"/> after <paramref name="past"/> (of <paramref name="pastLength"/> tokens).</summary>
    public DecoderPass RunAlone(int[] tokens, float[][] past, int pastLength) => Run(
        1,
        [.. tokens.Select(t => (long)t)],
        [.. Enumerable.Repeat(1L, pastLength + tokens.Length)],
        [.. Enumerable.Range(pastLength, tokens.Length).Select(p => (long)p)],
        past);

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
