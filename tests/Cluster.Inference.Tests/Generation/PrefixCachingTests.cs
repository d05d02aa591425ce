using Cluster.Inference.Generation;
using Microsoft.Extensions.Time.Testing;

using static Cluster.Inference.Tests.Generation.EngineRuns;

namespace Cluster.Inference.Tests.Generation;

/// <summary>The engine's prefix cache over the real demo decoder (ONNX Runtime): cached prefixes change no token.</summary>
public sealed class PrefixCachingTests(GenerationEngineTests.DemoModel model) : IClassFixture<GenerationEngineTests.DemoModel>
{
    private const int BlockTokens = 16;

    private static readonly SamplingParameters _seeded = new(0.8f, 0.9f, 0, 11);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(17, false)]
    [InlineData(32, false)]
    [InlineData(48, true)]
    [InlineData(100, false)]
    [InlineData(100, true)]
    [InlineData(200, true)]
    public async Task Submit_PromptAfterAnotherSharingItsStart_SameTokensAsColdFromCachedBlocks(int length, bool seeded)
    {
        var job = Job(Prompt(1, length), 24, seeded);
        var cold = await Alone(job, caching: false);

        using var runner = model.OpenRunner();
        var engine = Engine(runner, Settings);

        // The earlier prompt covers this one and 20 tokens more: every full block of this prompt is cached.
        await Tokens(await RunAlone(engine, Job([.. job.PromptTokens, .. Prompt(2, 20)], 4, seeded)));
        var updates = await Updates(await RunAlone(engine, job));

        Assert.Equal(cold, updates.Select(u => u.TokenId).ToList());
        var expected = (length - 1) / BlockTokens * BlockTokens;
        Assert.All(updates, u => Assert.Equal(expected, u.CachedPromptTokens));
        Assert.Equal(expected, engine.Statistics().PrefixCacheHits);
        Assert.Equal(length + 20 + length, engine.Statistics().PrefixCacheQueries);
    }

    [Fact]
    public async Task Submit_SamePromptTwice_ComputesOnlyItsLastTokenAgain()
    {
        var job = Job(Prompt(3, 64), 10, seeded: false);
        var cold = await Alone(job, caching: false);
        using var runner = model.OpenRunner();
        var engine = Engine(runner, Settings);
        await RunAlone(engine, job);
        var fed = engine.Statistics().FedTokens;

        var updates = await Updates(await RunAlone(engine, job));

        Assert.Equal(cold, updates.Select(u => u.TokenId).ToList());
        Assert.Equal(48, updates[0].CachedPromptTokens);

        // 16 prompt tokens (the last block, whose last token's logits are needed) and 9 decode tokens.
        Assert.Equal(16 + 9, engine.Statistics().FedTokens - fed);
    }

    [Fact]
    public async Task Submit_ConcurrentSequencesSharingAPrefix_EachMatchesItsColdTokens()
    {
        var prefix = Prompt(4, 80);
        var jobs = Enumerable.Range(0, 6).Select(i => Job([.. prefix, .. Prompt(10 + i, 3 + (i * 7))], 12 + i, seeded: i % 2 == 1)).ToList();
        var cold = new List<List<int>>();
        foreach (var job in jobs)
        {
            cold.Add(await Alone(job, caching: false));
        }

        using var runner = model.OpenRunner();
        var engine = Engine(runner, Settings);
        await RunAlone(engine, jobs[0]);
        var streams = jobs.Skip(1).Select(j => engine.Submit(j)).ToList();
        await RunToEnd(engine);

        for (var i = 1; i < jobs.Count; i++)
        {
            var updates = await Updates(streams[i - 1]);
            Assert.Equal(cold[i], updates.Select(u => u.TokenId).ToList());
            Assert.Equal(80, updates[0].CachedPromptTokens);
        }

        Assert.Equal(5 * 80, engine.Statistics().PrefixCacheHits);
    }

    [Fact]
    public async Task Submit_CacheBudgetTooSmallForEveryPrefix_AllCompleteRightWithFewerHits()
    {
        // Eight prefixes of 96 tokens (6 blocks each), each asked three times in turn: 48 blocks of prefixes.
        var jobs = new List<GenerationJob>();
        for (var round = 0; round < 3; round++)
        {
            for (var prefix = 0; prefix < 8; prefix++)
            {
                jobs.Add(Job([.. Prompt(20 + prefix, 96), .. Prompt(40 + round, 5)], 6, seeded: false));
            }
        }

        var cold = new List<List<int>>();
        foreach (var job in jobs)
        {
            cold.Add(await Alone(job, caching: false));
        }

        var roomy = await HitsAndCheck(jobs, Settings);

        // 20 blocks: one running sequence (7 blocks) and two prefixes at most, so each prefix is evicted before it comes back.
        using var probe = model.OpenRunner();
        var small = await HitsAndCheck(jobs, Settings with { KvCacheBytes = 20 * BlockTokens * probe.Shape.KvBytesPerToken });

        Assert.Equal(16 * 96, roomy);
        Assert.InRange(small, 0, roomy - 1);

        async Task<long> HitsAndCheck(List<GenerationJob> all, GenerationSettings settings)
        {
            using var runner = model.OpenRunner();
            var engine = Engine(runner, settings);
            for (var i = 0; i < all.Count; i++)
            {
                Assert.Equal(cold[i], await Tokens(await RunAlone(engine, all[i])));
            }

            var statistics = engine.Statistics();
            Assert.Equal(0, statistics.Failed);
            Assert.Equal(all.Count, statistics.Finished.Values.Sum());
            return statistics.PrefixCacheHits;
        }
    }

    [Fact]
    public async Task Submit_CachingOff_SameTokensAndNoHits()
    {
        var job = Job(Prompt(5, 70), 16, seeded: true);
        var withCache = await Alone(job, caching: true);
        using var runner = model.OpenRunner();
        var engine = Engine(runner, Settings with { PrefixCaching = false });
        await RunAlone(engine, job);

        var updates = await Updates(await RunAlone(engine, job));

        Assert.Equal(withCache, updates.Select(u => u.TokenId).ToList());
        Assert.All(updates, u => Assert.Equal(0, u.CachedPromptTokens));
        Assert.Equal(0, engine.Statistics().PrefixCacheHits);
        Assert.Equal(0, engine.Statistics().PrefixCacheQueries);
    }

    private static GenerationSettings Settings { get; } = new()
    {
        EosTokenIds = [50256],
        ContextLength = 1024,
        MaxRunningSequences = 16,
        MaxStepTokens = 64,
    };

    private static int[] Prompt(int seed, int length) =>
        [.. Enumerable.Range(0, length).Select(i => 256 + (((seed * 7919) + (i * 104729)) % 40000))];

    private static GenerationJob Job(int[] prompt, int maxTokens, bool seeded) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, IgnoreEos = true, Sampling = seeded ? _seeded : SamplingParameters.Greedy };

    private GenerationEngine Engine(IDecoderRunner runner, GenerationSettings settings) => new(runner, model.Tokenizer, settings, _time);

    /// <summary>The tokens of <paramref name="job"/> run alone on a fresh engine.</summary>
    private async Task<List<int>> Alone(GenerationJob job, bool caching)
    {
        using var runner = model.OpenRunner();
        return await Tokens(await RunAlone(Engine(runner, Settings with { PrefixCaching = caching }), job));
    }

    private static async Task<GenerationStream> RunAlone(GenerationEngine engine, GenerationJob job)
    {
        var stream = engine.Submit(job);
        await RunToEnd(engine);
        return stream;
    }
}
