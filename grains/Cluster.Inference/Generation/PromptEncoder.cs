using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Generation;

/// <summary>
/// Encodes a prompt in time linear in its length. Byte-level BPE merges each pre-token (a run of letters, of digits,
/// of other symbols or of spaces) in time that grows with the square of its length: one 100,000-letter word takes
/// seconds. A run longer than <see cref="LongestRun"/> characters is therefore encoded in pieces of that length; the
/// ids differ from a one-piece encoding only inside such a run, and every other part of the prompt encodes exactly as
/// the tokenizer alone encodes it.
/// </summary>
public static class PromptEncoder
{
    /// <summary>The longest run of one kind of character encoded as one piece.</summary>
    public const int LongestRun = 1024;

    /// <summary>The ids of <paramref name="text"/>, its long runs encoded piece by piece.</summary>
    public static IReadOnlyList<int> EncodeToIds(Tokenizer tokenizer, string text)
    {
        var cuts = Cuts(text);
        if (cuts.Count == 0)
        {
            return tokenizer.EncodeToIds(text);
        }

        var ids = new List<int>();
        var start = 0;
        foreach (var end in cuts.Append(text.Length))
        {
            ids.AddRange(tokenizer.EncodeToIds(text.AsSpan(start, end - start)));
            start = end;
        }

        return ids;
    }

    /// <summary>
    /// Where <paramref name="text"/> is cut before encoding: every <see cref="LongestRun"/> characters inside a run of
    /// one kind that is longer than that, never between the two halves of a surrogate pair; none in ordinary text.
    /// </summary>
    public static IReadOnlyList<int> Cuts(string text)
    {
        var cuts = new List<int>();
        var runStart = 0;
        var runKind = text.Length > 0 ? KindAt(text, 0) : default;
        for (var i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
        {
            var kind = KindAt(text, i);
            if (kind != runKind)
            {
                runKind = kind;
                runStart = i;
            }
            else if (i - runStart >= LongestRun)
            {
                cuts.Add(i);
                runStart = i;
            }
        }

        return cuts;
    }

    private static CharacterKind KindAt(string text, int index) => CharUnicodeInfo.GetUnicodeCategory(text, index) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharacterKind.Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharacterKind.Number,
        _ when char.IsWhiteSpace(text, index) => CharacterKind.Space,
        _ => CharacterKind.Other,
    };

    private enum CharacterKind
    {
        Letter,
        Number,
        Space,
        Other,
    }
}
