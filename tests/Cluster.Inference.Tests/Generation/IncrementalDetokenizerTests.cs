using System.Text;
using Cluster.Inference.Generation;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Tests.Generation;

public sealed class IncrementalDetokenizerTests
{
    private static readonly Tokenizer Gpt2 = TiktokenTokenizer.CreateForModel("gpt2");

    [Theory]
    [InlineData("naïve café 日本語 🙂")]
    [InlineData("Ünïcödé → ∑ 𝔘𝔫𝔦 — 你好，世界！ 👩‍👩‍👧 done")]
    [InlineData("plain ascii, with  double  spaces\nand lines")]
    public void Add_TokensOneByOne_ReassemblesTextWithoutBrokenCharacters(string text)
    {
        var ids = Gpt2.EncodeToIds(text);
        var detokenizer = new IncrementalDetokenizer(Gpt2);

        var pieces = ids.Select(detokenizer.Add).Append(detokenizer.Flush()).ToList();

        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, piece =>
        {
            Assert.DoesNotContain('\uFFFD', piece);
            Assert.True(piece.EnumerateRunes().All(rune => rune != Rune.ReplacementChar) && IsWellFormed(piece), $"Broken piece '{piece}'");
        });
    }

    [Fact]
    public void Add_MultiByteCharacterSplitAcrossTokens_HeldUntilComplete()
    {
        var ids = Gpt2.EncodeToIds(" 日本");
        Assert.True(ids.Count > 2, "GPT-2 should split these characters across byte tokens");
        var detokenizer = new IncrementalDetokenizer(Gpt2);

        var pieces = ids.Select(detokenizer.Add).ToList();

        Assert.Contains("", pieces);
        Assert.Equal(" 日本", string.Concat(pieces));
        Assert.Equal("", detokenizer.Flush());
    }

    [Fact]
    public void Add_WordTokens_KeepLeadingSpaces()
    {
        var ids = Gpt2.EncodeToIds("Hello world, how are you");
        var detokenizer = new IncrementalDetokenizer(Gpt2);

        var pieces = ids.Select(detokenizer.Add).ToList();

        Assert.Equal(["Hello", " world", ",", " how", " are", " you"], pieces);
    }

    [Fact]
    public void Flush_SequenceCutMidCharacter_ReturnsReplacementCharacter()
    {
        var ids = Gpt2.EncodeToIds("a🙂");
        var detokenizer = new IncrementalDetokenizer(Gpt2);

        var pieces = ids.Take(ids.Count - 1).Select(detokenizer.Add).ToList();

        Assert.Equal("a", string.Concat(pieces));
        Assert.Equal("\uFFFD", detokenizer.Flush());
        Assert.Equal("z", detokenizer.Add(Gpt2.EncodeToIds("z")[0]));
    }

    private static bool IsWellFormed(string piece)
    {
        for (var i = 0; i < piece.Length; i++)
        {
            if (char.IsHighSurrogate(piece[i]))
            {
                if (i + 1 >= piece.Length || !char.IsLowSurrogate(piece[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(piece[i]))
            {
                return false;
            }
        }

        return true;
    }
}
