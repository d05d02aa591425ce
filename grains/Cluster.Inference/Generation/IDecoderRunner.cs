namespace Cluster.Inference.Generation;

/// <summary>
/// The mechanics of a decoder: runs one forward pass over the rows the scheduler chose and keeps each
/// sequence's KV cache resident between steps. It knows nothing of policy (who runs, sampling, stops):
/// a sequence it is not given in a step is dropped from its cache. Its methods block: call them on the
/// device's thread.
/// </summary>
public interface IDecoderRunner : IDisposable
{
    /// <summary>The decoder's dimensions.</summary>
    DecoderShape Shape { get; }

    /// <summary>
    /// Runs one step. Each row feeds <see cref="StepRow.Tokens"/> of its sequence starting at
    /// <see cref="StepRow.Position"/>; the runner must already hold exactly <see cref="StepRow.Position"/>
    /// cached tokens of that sequence (0 for a sequence it has not seen or that was dropped, which then
    /// starts afresh). Rows with <see cref="StepRow.WantLogits"/> get the logits of their last token.
    /// </summary>
    StepOutput Run(IReadOnlyList<StepRow> rows);
}

/// <summary>A decoder's dimensions, read from its graph.</summary>
/// <param name="Layers">Transformer layers (pairs of <c>past_key_values.{i}.key|value</c>).</param>
/// <param name="KvHeads">Key/value heads per layer.</param>
/// <param name="HeadSize">Size of one head.</param>
/// <param name="VocabularySize">Logits per token.</param>
/// <param name="BytesPerElement">4 for FP32 caches, 2 for FP16.</param>
public sealed record DecoderShape(int Layers, int KvHeads, int HeadSize, int VocabularySize, int BytesPerElement)
{
    /// <summary>Bytes one token occupies in the KV cache, keys and values of every layer.</summary>
    public long KvBytesPerToken => 2L * Layers * KvHeads * HeadSize * BytesPerElement;
}

/// <summary>One sequence's share of a step.</summary>
/// <param name="SequenceId">The engine's id of the sequence.</param>
/// <param name="Tokens">The tokens to feed (a prefill chunk, or the one token to decode from).</param>
/// <param name="Position">How many of the sequence's tokens are already cached (the first fed token's position).</param>
/// <param name="WantLogits">Whether to return the logits after the last fed token.</param>
public readonly record struct StepRow(long SequenceId, ReadOnlyMemory<int> Tokens, int Position, bool WantLogits);

/// <summary>What one step produced and cost.</summary>
public sealed class StepOutput
{
    /// <summary>Creates an output of <paramref name="rows"/> rows of <paramref name="vocabularySize"/> logits each.</summary>
    public StepOutput(int rows, int vocabularySize)
        : this(new float[rows * vocabularySize], vocabularySize, [.. Enumerable.Range(0, rows).Select(r => r * vocabularySize)])
    {
    }

    /// <summary>
    /// An output over a logits buffer the runner reuses from step to step, row i's logits starting at
    /// <paramref name="rowOffsets"/>[i] (rows in the order the runner computed them, not the step's).
    /// </summary>
    public StepOutput(float[] logits, int vocabularySize, int[] rowOffsets)
    {
        VocabularySize = vocabularySize;
        Logits = logits;
        RowOffsets = rowOffsets;
    }

    /// <summary>Logits per row.</summary>
    public int VocabularySize { get; }

    /// <summary>The logits of every row (rows that did not want logits hold nothing meaningful).</summary>
    public float[] Logits { get; }

    /// <summary>Where each step row's logits start in <see cref="Logits"/>.</summary>
    public int[] RowOffsets { get; }

    /// <summary>Time spent inside the model's run (ONNX Runtime), excluding building inputs and caches.</summary>
    public TimeSpan RunTime { get; set; }

    /// <summary>KV-cache bytes copied by the runner in this step (building the past, keeping the present).</summary>
    public long KvBytesCopied { get; set; }

    /// <summary>Token slots of the step's past cache and input that were padding rather than a sequence's tokens.</summary>
    public long PaddedSlots { get; set; }

    /// <summary>All token slots of the step's past cache and input (real plus padding).</summary>
    public long TotalSlots { get; set; }

    /// <summary>The logits of one row.</summary>
    public ReadOnlySpan<float> Row(int row) => Logits.AsSpan(RowOffsets[row], VocabularySize);
}
