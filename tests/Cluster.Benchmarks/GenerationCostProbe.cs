using System.Text.Json.Serialization;
using Cluster.Inference.Devices;
using Cluster.Inference.Generation;

namespace Cluster.Benchmarks;

/// <summary>
/// What one token costs the model, whatever the schedule: ONNX Runtime time per token of a prefill chunk, of a
/// decode step of one sequence, and of a decode step of 32 sequences, each the median of repeated passes over
/// sequences with a realistic cache. From them and the workload's mean prompt and output lengths follows the best
/// continuous ÷ sequential any scheduler can reach on this machine: prompts cost the same under every schedule
/// (a chunk is already a batch), and only decoding gets cheaper when sequences share a pass.
/// </summary>
internal static class GenerationCostProbe
{
    private const int Repeats = 15;
    private const int CachedTokens = 300;
    private const int PrefillChunk = 256;
    private const int BatchRows = 32;

    public static CostFigures Measure(string onnxPath, int intraOpThreads, double meanPromptTokens, double meanOutputTokens)
    {
        using var runner = new OnnxDecoderRunner(onnxPath, DeviceDescriptor.Cpu, intraOpThreads);
        var random = new Random(11);
        var nextId = 1_000_000L;
        var prefill = Median(Repeats, () => runner.Run([new StepRow(nextId++, Tokens(random, PrefillChunk), 0, true)]).RunTime) / PrefillChunk;
        var single = DecodeMilliseconds(runner, random, rows: 1, ref nextId);
        var batched = DecodeMilliseconds(runner, random, BatchRows, ref nextId) / BatchRows;
        var sequentialPerRequest = (meanPromptTokens * prefill) + (meanOutputTokens * single);
        var batchedPerRequest = (meanPromptTokens * prefill) + (meanOutputTokens * batched);
        return new CostFigures
        {
            PrefillMillisecondsPerToken = Math.Round(prefill, 4),
            DecodeMillisecondsPerTokenAlone = Math.Round(single, 4),
            DecodeMillisecondsPerTokenBatch32 = Math.Round(batched, 4),
            PromptShareOfModelTime = Math.Round(meanPromptTokens * prefill / batchedPerRequest, 3),
            ContinuousOverSequentialCeiling = Math.Round(sequentialPerRequest / batchedPerRequest, 2),
        };
    }

    /// <summary>Median time of one decode pass over <paramref name="rows"/> sequences holding <see cref="CachedTokens"/> tokens each.</summary>
    private static double DecodeMilliseconds(OnnxDecoderRunner runner, Random random, int rows, ref long nextId)
    {
        var ids = new long[rows];
        for (var r = 0; r < rows; r++)
        {
            ids[r] = nextId++;
        }

        runner.Run([.. ids.Select(id => new StepRow(id, Tokens(random, CachedTokens), 0, false))]);
        var position = CachedTokens;
        return Median(Repeats, () => runner.Run([.. ids.Select(id => new StepRow(id, Tokens(random, 1), position, true))]).RunTime, () => position++);
    }

    private static double Median(int count, Func<TimeSpan> pass, Action? after = null)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            samples[i] = pass().TotalMilliseconds;
            after?.Invoke();
        }

        Array.Sort(samples);
        return samples[count / 2];
    }

    private static int[] Tokens(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => random.Next(50_000))];
}

/// <summary>The model's cost per token and the ceiling it puts on continuous ÷ sequential for the workload.</summary>
public sealed record CostFigures
{
    /// <summary>ONNX Runtime time per token of a 256-token prompt chunk.</summary>
    [JsonPropertyName("prefill_ms_per_token")] public required double PrefillMillisecondsPerToken { get; init; }

    /// <summary>ONNX Runtime time of one sequence's decode step (300 cached tokens).</summary>
    [JsonPropertyName("decode_ms_per_token_alone")] public required double DecodeMillisecondsPerTokenAlone { get; init; }

    /// <summary>ONNX Runtime time of a 32-sequence decode step, per sequence.</summary>
    [JsonPropertyName("decode_ms_per_token_batch32")] public required double DecodeMillisecondsPerTokenBatch32 { get; init; }

    /// <summary>Share of a request's model time spent on its prompt when decoding is batched by 32.</summary>
    [JsonPropertyName("prompt_share_of_model_time")] public required double PromptShareOfModelTime { get; init; }

    /// <summary>
    /// (mean prompt × prefill + mean output × decode alone) ÷ (mean prompt × prefill + mean output × decode in 32): the
    /// most continuous batching can gain over one request at a time on this machine for this workload.
    /// </summary>
    [JsonPropertyName("continuous_over_sequential_ceiling")] public required double ContinuousOverSequentialCeiling { get; init; }
}
