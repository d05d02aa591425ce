using System.Diagnostics;
using Cluster.Inference.Generation;
using Xunit.Abstractions;

namespace Cluster.Inference.Tests.Generation;

public sealed class TokenSamplerTests(ITestOutputHelper output)
{
    private const int Gpt2Vocabulary = 50257;

    public static TheoryData<float, float, int> Settings()
    {
        var data = new TheoryData<float, float, int>();
        foreach (var temperature in new[] { 0.5f, 1f, 1.7f })
        {
            foreach (var topP in new[] { 1f, 0.95f, 0.5f, 0.05f })
            {
                foreach (var topK in new[] { 0, 2, 40, 5000 })
                {
                    data.Add(temperature, topP, topK);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Settings))]
    public void Next_RandomLogits_MatchesFullSortReference(float temperature, float topP, int topK)
    {
        for (var seed = 0UL; seed < 4; seed++)
        {
            var parameters = new SamplingParameters(temperature, topP, topK, seed);
            var sampler = new TokenSampler(parameters);
            var random = new Random((int)seed + (int)(temperature * 100) + topK);
            foreach (var (vocabulary, spread, integers) in new[] { (Gpt2Vocabulary, 1f, false), (Gpt2Vocabulary, 6f, false), (61, 1f, true) })
            {
                var logits = RandomLogits(random, vocabulary, spread, integers);
                var expected = Reference(logits, parameters, sampler.Draws);
                Assert.Equal(expected, sampler.Next(logits));
            }
        }
    }

    [Fact]
    public void Next_GreedyWithTies_PicksLowestIndexWithoutDrawing()
    {
        var sampler = new TokenSampler(SamplingParameters.Greedy);
        Assert.Equal(2, sampler.Next([1f, 3f, 5f, -2f, 5f, 5f]));
        Assert.Equal(0, sampler.Next([0f, -0f, 0f]));
        Assert.Equal(0, sampler.Draws);
    }

    [Fact]
    public void Next_TopKOne_EqualsGreedy()
    {
        var random = new Random(7);
        var greedy = new TokenSampler(SamplingParameters.Greedy);
        var topOne = new TokenSampler(new SamplingParameters(1.3f, 0.9f, 1, 99));
        for (var step = 0; step < 20; step++)
        {
            var logits = RandomLogits(random, Gpt2Vocabulary, 2f, integers: step % 2 == 0);
            Assert.Equal(greedy.Next(logits), topOne.Next(logits));
        }
    }

    [Fact]
    public void Next_SameSeedAndLogits_ChoosesSameTokens()
    {
        var steps = LogitSequence(30);
        var parameters = new SamplingParameters(1f, 0.95f, 0, 1234);

        var first = steps.Select(Using(new TokenSampler(parameters))).ToArray();
        var second = steps.Select(Using(new TokenSampler(parameters))).ToArray();
        var otherSeed = steps.Select(Using(new TokenSampler(parameters with { Seed = 1235 }))).ToArray();

        Assert.Equal(first, second);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void Next_ResumedFromDraws_ContinuesSameStream()
    {
        var steps = LogitSequence(12);
        var parameters = new SamplingParameters(0.8f, 0.9f, 50, 42);
        var whole = steps.Select(Using(new TokenSampler(parameters))).ToArray();

        var before = new TokenSampler(parameters);
        var head = steps.Take(5).Select(Using(before)).ToArray();
        Assert.Equal(5, before.Draws);
        var after = new TokenSampler(parameters, before.Draws);
        var tail = steps.Skip(5).Select(Using(after)).ToArray();

        Assert.Equal(whole, head.Concat(tail).ToArray());
        Assert.Equal(12, after.Draws);
    }

    [Fact]
    public void Next_MaskedTokens_AreNeverChosen()
    {
        var logits = Enumerable.Repeat(float.NegativeInfinity, 100).ToArray();
        logits[17] = 0f;
        logits[63] = 0f;
        var sampler = new TokenSampler(new SamplingParameters(1f, 1f, 0, 5));

        var chosen = Enumerable.Range(0, 200).Select(_ => sampler.Next(logits)).ToHashSet();

        Assert.Equal([17, 63], chosen.Order().ToArray());
    }

    [Fact]
    public void Next_TinyTopP_KeepsOnlyMostLikelyToken()
    {
        var sampler = new TokenSampler(new SamplingParameters(1f, 0.01f, 0, 3));
        float[] logits = [0f, 2f, 1.5f, 2f];

        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, sampler.Next(logits)));
    }

    [Fact]
    public void Next_NaNOrNoFiniteLogit_Throws()
    {
        var sampler = new TokenSampler(new SamplingParameters(1f, 1f, 0, 0));

        Assert.Throws<ArgumentException>(() => sampler.Next([1f, float.NaN]));
        Assert.Throws<ArgumentException>(() => sampler.Next([float.NegativeInfinity, float.NegativeInfinity]));
        Assert.Throws<ArgumentException>(() => sampler.Next([]));
    }

    [Theory]
    [InlineData(-0.1f, 1f, 0)]
    [InlineData(float.NaN, 1f, 0)]
    [InlineData(float.PositiveInfinity, 1f, 0)]
    [InlineData(1f, 0f, 0)]
    [InlineData(1f, 1.01f, 0)]
    [InlineData(1f, float.NaN, 0)]
    [InlineData(1f, 1f, -1)]
    public void SamplingParameters_OutOfRange_Throws(float temperature, float topP, int topK)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingParameters(temperature, topP, topK, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplingParameters.Greedy with { Temperature = temperature, TopP = topP, TopK = topK });
    }

    [Fact]
    public void Next_Gpt2Vocabulary_PrintsTimingPerMode()
    {
        var random = new Random(11);
        var modelLike = Enumerable.Range(0, 8).Select(_ => RandomLogits(random, Gpt2Vocabulary, 2.5f, integers: false)).ToArray();
        var flat = Enumerable.Range(0, 8).Select(_ => RandomLogits(random, Gpt2Vocabulary, 1f, integers: false)).ToArray();
        var modes = new (string Name, SamplingParameters Parameters)[]
        {
            ("greedy", SamplingParameters.Greedy),
            ("temperature 1", new(1f, 1f, 0, 1)),
            ("top-k 50", new(0.8f, 1f, 50, 1)),
            ("top-p 0.9", new(0.8f, 0.9f, 0, 1)),
            ("top-k 50 + top-p 0.9", new(0.8f, 0.9f, 50, 1)),
            ("top-p 0.99", new(1f, 0.99f, 0, 1)),
        };

        foreach (var (name, parameters) in modes)
        {
            foreach (var (label, logits) in new[] { ("model-like", modelLike), ("flat", flat) })
            {
                output.WriteLine($"{name,-22} {label,-10} {MicrosecondsPerCall(new TokenSampler(parameters), logits),7:F1} µs/call");
            }
        }
    }

    private static double MicrosecondsPerCall(TokenSampler sampler, float[][] logits)
    {
        for (var i = 0; i < 200; i++)
        {
            sampler.Next(logits[i % logits.Length]);
        }

        const int Calls = 2000;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
        {
            sampler.Next(logits[i % logits.Length]);
        }

        return watch.Elapsed.TotalMicroseconds / Calls;
    }

    private static Func<float[], int> Using(TokenSampler sampler) => logits => sampler.Next(logits);

    private static float[][] LogitSequence(int steps)
    {
        var random = new Random(2024);
        return Enumerable.Range(0, steps).Select(_ => RandomLogits(random, 1000, 1.5f, integers: false)).ToArray();
    }

    private static float[] RandomLogits(Random random, int vocabulary, float spread, bool integers)
    {
        var logits = new float[vocabulary];
        for (var i = 0; i < vocabulary; i++)
        {
            // Integer logits force ties in weight, which the tie-break (lower id first) must settle.
            logits[i] = integers ? random.Next(0, 4) : (float)(Gaussian(random) * spread);
        }

        return logits;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>The textbook definition: sort everything by probability, cut, renormalise, walk by id.</summary>
    private static int Reference(float[] logits, SamplingParameters parameters, long draw)
    {
        var max = logits.Max();
        var weights = logits.Select(l => TokenSampler.Weight((l - max) / parameters.Temperature)).ToArray();
        var ranked = Enumerable.Range(0, logits.Length)
            .Where(i => weights[i] != 0)
            .OrderByDescending(i => weights[i])
            .ThenBy(i => i)
            .ToList();
        if (parameters.TopK > 0)
        {
            ranked = ranked.Take(parameters.TopK).ToList();
        }

        long total = ranked.Sum(i => (long)weights[i]);
        if (parameters.TopP < 1f)
        {
            var need = TokenSampler.NucleusNeed(parameters.TopP, total);
            long cumulative = 0;
            var size = 0;
            while (cumulative < need)
            {
                cumulative += weights[ranked[size++]];
            }

            ranked = ranked.Take(size).ToList();
            total = cumulative;
        }

        var target = TokenSampler.Scale(TokenSampler.RandomBits(parameters.Seed, draw), total);
        long running = 0;
        foreach (var id in ranked.Order())
        {
            running += weights[id];
            if (target < running)
            {
                return id;
            }
        }

        throw new InvalidOperationException("Reference draw fell outside the total.");
    }
}
