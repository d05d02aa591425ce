using Cluster.Inference.Generation;

namespace Cluster.Inference.Tests.Generation;

public sealed class StopStringMatcherTests
{
    [Fact]
    public void Append_StopSplitOverThreeAppends_HoldsBackThenStops()
    {
        var matcher = new StopStringMatcher(["<END>"]);

        Assert.Equal(new StopMatch("Hello ", false, null), matcher.Append("Hello <E"));
        Assert.Equal(new StopMatch("", false, null), matcher.Append("N"));
        Assert.Equal(new StopMatch("", true, "<END>"), matcher.Append("D> more"));
        Assert.True(matcher.Stopped);
    }

    [Fact]
    public void Append_HeldTextDiverges_ReleasesIt()
    {
        var matcher = new StopStringMatcher(["\n\n"]);

        Assert.Equal(new StopMatch("line", false, null), matcher.Append("line\n"));
        Assert.Equal(new StopMatch("\nnext", false, null), matcher.Append("next"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Append_TwoOverlappingStops_EarliestInTextWins()
    {
        var matcher = new StopStringMatcher(["bcd", "ab"]);

        Assert.Equal(new StopMatch("x", false, null), matcher.Append("xa"));
        Assert.Equal(new StopMatch("", true, "ab"), matcher.Append("bcd"));
    }

    [Fact]
    public void Append_ShortStopCompletesInsidePendingLongerStop_StopsAtShortOne()
    {
        var matcher = new StopStringMatcher(["cd", "abcde"]);

        Assert.Equal(new StopMatch("", false, null), matcher.Append("abc"));
        Assert.Equal(new StopMatch("ab", true, "cd"), matcher.Append("d"));
    }

    [Fact]
    public void Append_StopAtVeryStart_EmitsNothing()
    {
        var matcher = new StopStringMatcher(["###"]);

        Assert.Equal(new StopMatch("", true, "###"), matcher.Append("### title"));
        Assert.Equal(new StopMatch("", true, null), matcher.Append("later"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Append_TextAfterStopInSameAppend_IsDropped()
    {
        var matcher = new StopStringMatcher(["STOP"]);

        Assert.Equal(new StopMatch("one two ", true, "STOP"), matcher.Append("one two STOP three STOP four"));
    }

    [Fact]
    public void Flush_SequenceEndsWhileHolding_ReturnsHeldText()
    {
        var matcher = new StopStringMatcher(["</answer>"]);

        Assert.Equal(new StopMatch("42 ", false, null), matcher.Append("42 </ans"));
        Assert.Equal("</ans", matcher.Flush());
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Append_NoStops_PassesEverythingThrough()
    {
        var matcher = new StopStringMatcher([]);

        Assert.Equal(new StopMatch("<E", false, null), matcher.Append("<E"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Constructor_EmptyStopString_Throws()
    {
        Assert.Throws<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
    }
}
