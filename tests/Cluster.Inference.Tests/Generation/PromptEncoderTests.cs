using Cluster.Inference.Generation;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Tests.Generation;

public sealed class PromptEncoderTests
{
    private static readonly Tokenizer _gpt2 = TiktokenTokenizer.CreateForModel("gpt2");

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog.")]
    [InlineData("héllo wörld, 日本語 🙂! <|endoftext|> def f(x):\n    return x  # 42")]
    public void OrdinaryText_IsNotCutAndEncodesAsTheTokenizerDoes(string sentence)
    {
        // Runs of up to LongestRun characters of one kind, many times over: long text, no long run.
        var text = string.Concat(Enumerable.Repeat(sentence + " " + new string('y', PromptEncoder.LongestRun) + " ", 20));

        Assert.Empty(PromptEncoder.Cuts(text));
        Assert.Equal(_gpt2.EncodeToIds(text), PromptEncoder.EncodeToIds(_gpt2, text));
    }

    [Fact]
    public void LongRuns_AreCutEveryLongestRunCharacters_AndOnlyThere()
    {
        var letters = new string('p', 2 * PromptEncoder.LongestRun + 5);
        var digits = new string('7', PromptEncoder.LongestRun + 1);
        var text = "say " + letters + " then " + digits + "!";

        var letterStart = "say ".Length;
        var digitStart = letterStart + letters.Length + " then ".Length;
        Assert.Equal(
            [letterStart + PromptEncoder.LongestRun, letterStart + 2 * PromptEncoder.LongestRun, digitStart + PromptEncoder.LongestRun],
            PromptEncoder.Cuts(text));
    }

    [Fact]
    public void ALongRun_RoundTripsAndOnlyItsOwnIdsDiffer()
    {
        var run = new string('p', 5 * PromptEncoder.LongestRun);
        var text = "Before it. " + run + " After it.";

        var ids = PromptEncoder.EncodeToIds(_gpt2, text);

        Assert.Equal(text, _gpt2.Decode(ids));
        var before = _gpt2.EncodeToIds("Before it.");
        var after = _gpt2.EncodeToIds(" After it.");
        Assert.Equal(before, ids.Take(before.Count));
        Assert.Equal(after, ids.TakeLast(after.Count));
    }

    [Fact]
    public void ACut_NeverSplitsASurrogatePair()
    {
        // One character short of LongestRun, then emoji (two UTF-16 units each, all of one kind): the first cut falls
        // where a pair would be split unless it moves past it.
        var text = new string('#', PromptEncoder.LongestRun - 1) + string.Concat(Enumerable.Repeat("🙂", PromptEncoder.LongestRun));

        var cuts = PromptEncoder.Cuts(text);

        Assert.NotEmpty(cuts);
        Assert.All(cuts, cut => Assert.False(char.IsLowSurrogate(text[cut]), $"cut at {cut} splits a surrogate pair"));
        Assert.Equal(text, _gpt2.Decode(PromptEncoder.EncodeToIds(_gpt2, text)));
    }
}
