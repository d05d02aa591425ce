using Cluster.Contracts.Models;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Text;

/// <summary>
/// Turns a sentence into BERT token ids with the model's WordPiece vocabulary: <c>[CLS]</c>, at most
/// <see cref="TextEmbeddingConfig.MaxTokens"/> − 2 word pieces (the rest of a long text is dropped), <c>[SEP]</c>.
/// Thread-safe.
/// </summary>
public sealed class WordPieceEncoder
{
    private readonly BertTokenizer _tokenizer;
    private readonly int _maxPieces;

    /// <summary>Reads the vocabulary file.</summary>
    public WordPieceEncoder(string vocabularyFile, TextEmbeddingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _tokenizer = BertTokenizer.Create(vocabularyFile, new BertOptions
        {
            LowerCaseBeforeTokenization = config.LowerCase,
            // Uncased BERT vocabularies were built from text with accents stripped.
            RemoveNonSpacingMarks = config.LowerCase,
        });
        _maxPieces = config.MaxTokens - 2;
    }

    /// <summary>The id that pads sequences to a common length.</summary>
    public int PaddingId => _tokenizer.PaddingTokenId;

    /// <summary>The token ids of <paramref name="text"/>, special tokens included.</summary>
    public int[] Encode(string text)
    {
        var pieces = _tokenizer.EncodeToIds(text, _maxPieces, addSpecialTokens: false, out _, out _);
        var ids = new int[pieces.Count + 2];
        ids[0] = _tokenizer.ClassificationTokenId;
        for (var i = 0; i < pieces.Count; i++)
        {
            ids[i + 1] = pieces[i];
        }

        ids[^1] = _tokenizer.SeparatorTokenId;
        return ids;
    }
}
