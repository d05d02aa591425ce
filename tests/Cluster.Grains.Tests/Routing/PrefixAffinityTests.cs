using Cluster.Client.Routing;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Load;

namespace Cluster.Grains.Tests.Routing;

public sealed class PrefixAffinityTests
{
    private static readonly string File = string.Concat(Enumerable.Range(0, 20).Select(i => $"def f{i}(x): return x * {i} + {i * i}\n"));

    [Fact]
    public void Find_PromptExtendingARecordedOne_ReturnsItsReplicaAndTheSharedBlocks()
    {
        var affinity = new PrefixAffinity(blockChars: 64);
        affinity.Record("m:1", File, "m:1/1");

        var found = affinity.Find("m:1", File + "def g(y):");

        Assert.Equal(("m:1/1", File.Length / 64 * 64), found);
        Assert.Null(affinity.Find("m:2", File));
        Assert.Null(affinity.Find("m:1", "x" + File));
    }

    [Fact]
    public void Find_TwoReplicasServedDifferentLengths_LongestSharedStartWins()
    {
        var affinity = new PrefixAffinity(blockChars: 16);
        affinity.Record("m:1", File[..64], "m:1/0");
        affinity.Record("m:1", File[..160], "m:1/1");
        affinity.Record("m:1", File[..96] + "different tail of the prompt....", "m:1/0");

        Assert.Equal(("m:1/1", 160), affinity.Find("m:1", File));
        Assert.Equal(("m:1/0", 128), affinity.Find("m:1", File[..96] + "different tail of the prompt....!"));
    }

    [Fact]
    public void Record_PastMaxBlocks_ForgetsTheLeastRecentlyRecordedTailsFirst()
    {
        var affinity = new PrefixAffinity(blockChars: 16, maxBlocks: 8);
        affinity.Record("m:1", File[..128], "m:1/0");
        affinity.Record("m:1", "another prompt entirely, 32 char", "m:1/1");

        Assert.Equal(8, affinity.Count);
        Assert.Equal(("m:1/0", 96), affinity.Find("m:1", File));
        Assert.Equal(("m:1/1", 32), affinity.Find("m:1", "another prompt entirely, 32 chars"));
    }

    [Fact]
    public void TextOf_Conversation_JoinsTurnsInOrder()
    {
        var request = new GenerationRequest { Messages = [new("system", "be brief"), new("user", "hi")] };

        Assert.Equal("system\nbe brief\nuser\nhi\n", PrefixAffinity.TextOf(request));
        Assert.Equal("plain", PrefixAffinity.TextOf(new GenerationRequest { Prompt = "plain" }));
    }

    [Fact]
    public void ChooseForPrompt_SharedStart_GoesBackToTheReplicaThatServedIt()
    {
        using var router = new ReplicaRouter();
        router.Update(Table(("m:1/0", 0), ("m:1/1", 0), ("m:1/2", 0)));
        var first = router.ChooseForPrompt("m", 1, File)!.Key;

        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(first, router.ChooseForPrompt("m", 1, File + new string('x', i))!.Key));
        Assert.Equal((50L, 50L), router.AffinityCounts);
    }

    [Fact]
    public void ChooseForPrompt_SharedStartShorterThanTheMinimum_RoutesByLoadAlone()
    {
        using var router = new ReplicaRouter { MinSharedChars = 10_000 };
        router.Update(Table(("m:1/0", 0), ("m:1/1", 0)));
        router.ChooseForPrompt("m", 1, File);

        var chosen = Enumerable.Range(0, 200).Select(_ => router.ChooseForPrompt("m", 1, File)!.Key).ToHashSet();

        Assert.Equal(2, chosen.Count);
        Assert.Equal((0L, 0L), router.AffinityCounts);
    }

    [Fact]
    public void ChooseForPrompt_HolderOverloaded_TakesTheLeastLoadedAndRemembersIt()
    {
        using var router = new ReplicaRouter { OverloadMargin = 1000 };
        router.Update(Table(("m:1/0", 0), ("m:1/1", 0)));
        var holder = router.ChooseForPrompt("m", 1, File)!.Key;
        var other = holder == "m:1/0" ? "m:1/1" : "m:1/0";

        // 999 more than the other: within the margin, so the prompt stays with its holder.
        router.Update(Table((holder, 999), (other, 0)));
        Assert.Equal(holder, router.ChooseForPrompt("m", 1, File + "a")!.Key);

        router.Update(Table((holder, 1001), (other, 0)));
        Assert.Equal(other, router.ChooseForPrompt("m", 1, File + "b")!.Key);

        // The prompt is now remembered on the replica that served it last.
        router.Update(Table((holder, 0), (other, 0)));
        Assert.Equal(other, router.ChooseForPrompt("m", 1, File + "c")!.Key);
        Assert.Equal((3L, 2L), router.AffinityCounts);
    }

    [Fact]
    public void ChooseForPrompt_HolderTried_TakesAnother()
    {
        using var router = new ReplicaRouter();
        router.Update(Table(("m:1/0", 0), ("m:1/1", 0)));
        var holder = router.ChooseForPrompt("m", 1, File)!.Key;

        Assert.NotEqual(holder, router.ChooseForPrompt("m", 1, File, [holder])!.Key);
    }

    private static ReplicaTable Table(params (string Key, int Queue)[] replicas) => ReplicaTable.From(new ClusterLoad
    {
        Silos = [new SiloLoad
        {
            Silo = "s",
            Replicas = [.. replicas.Select(r => new ReplicaLoad { Key = r.Key, Model = "m", Version = 1, Capacity = 1, Queued = r.Queue, Accepting = true })],
        }],
    });
}
