namespace Cluster.Contracts.Models;

/// <summary>
/// Serves a transformer encoder as a text-embedding pipeline (like a Triton ensemble): sentences in,
/// WordPiece tokens, one batched model run, mean pooling over the attention mask, L2 normalisation.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TextEmbeddingConfig
{
    /// <summary>The WordPiece vocabulary file inside each version folder.</summary>
    [Id(0)] public string Vocabulary { get; init; } = "vocab.txt";

    /// <summary>Longest token sequence, counting <c>[CLS]</c> and <c>[SEP]</c>; longer text is truncated.</summary>
    [Id(1)] public int MaxTokens { get; init; } = 256;

    /// <summary>Whether text is lower-cased before tokenization (uncased BERT vocabularies).</summary>
    [Id(2)] public bool LowerCase { get; init; } = true;

    /// <summary>
    /// Largest share of padding a model run may carry: a batch's sentences are sorted by length and cut
    /// into runs that each stay under it (a run of one sentence has none).
    /// </summary>
    [Id(3)] public double MaxPaddingFraction { get; init; } = 0.2;

    /// <summary>The embedding size (the encoder's hidden size); 0 takes it from the encoder's output shape, which must then be fixed.</summary>
    [Id(4)] public int Dimensions { get; init; }
}
