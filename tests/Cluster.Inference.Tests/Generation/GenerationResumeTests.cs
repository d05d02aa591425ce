using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Generation;
using Microsoft.Extensions.Time.Testing;

using static Cluster.Inference.Tests.Generation.EngineRuns;

namespace Cluster.Inference.Tests.Generation;

/// <summary>
/// A generation resumed after its first tokens (<see cref="GenerationJob.ResumeTokens"/>) on a fresh engine over the
/// real demo decoder streams exactly what the undisturbed run streamed after them: tokens, text, counts, finish.
/// </summary>
public sealed class GenerationResumeTests(GenerationEngineTests.DemoModel model) : IClassFixture<GenerationEngineTests.DemoModel>
{
    private const int MaxTokens = 40;

    // "The quick brown fox jumps over the" in GPT-2's BPE.
    private static readonly int[] _prompt = [464, 2068, 7586, 21831, 18045, 625, 262];

    private static readonly GenerationSettings _settings = new()
    {
        EosTokenIds = [50256],
        ContextLength = 1024,
        MaxRunningSequences = 16,
        MaxStepTokens = 32,
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0f, true)]
    [InlineData(0.9f, false)]
    [InlineData(0.9f, true)]
    public async Task Submit_ResumedAtEveryCut_StreamsExactlyWhatTheUndisturbedRunStreamedAfterIt(float temperature, bool withStop)
    {
        using var runner = model.OpenRunner();
        var job = new GenerationJob
        {
            PromptTokens = _prompt,
            MaxTokens = MaxTokens,
            IgnoreEos = true,
            Sampling = new SamplingParameters(temperature, 0.95f, 0, Seed: 12345),
        };
        if (withStop)
        {
            job = job with { StopStrings = [StopInside(await Updates(await RunAsync(runner, job)))] };
        }

        var undisturbed = await Updates(await RunAsync(runner, job));
        var generated = undisturbed.Where(u => u.TokenId >= 0).Select(u => u.TokenId).ToArray();
        Assert.True(generated.Length > 10, $"The undisturbed run generated only {generated.Length} tokens.");

        for (var cut = 1; cut < generated.Length; cut++)
        {
            var resumed = await Updates(await RunAsync(runner, job with { ResumeTokens = generated[..cut] }));

            Assert.Equal(undisturbed[cut..], resumed);
        }
    }

    [Fact]
    public async Task Submit_Resumed_CountsResumedTokensTowardsMaxTokensAndKeepsThePromptCount()
    {
        using var runner = model.OpenRunner();
        var job = new GenerationJob { PromptTokens = _prompt, MaxTokens = 12, IgnoreEos = true };
        var generated = await Tokens(await RunAsync(runner, job));

        var resumed = await Updates(await RunAsync(runner, job with { ResumeTokens = generated[..9].ToArray() }));

        Assert.Equal([10, 11, 12], resumed.Select(u => u.GeneratedTokens));
        Assert.All(resumed, u => Assert.Equal(_prompt.Length, u.PromptTokens));
        Assert.Equal(FinishReasons.Length, resumed[^1].FinishReason);
    }

    [Theory]
    [InlineData("outside the vocabulary", "resume_tokens[1]")]
    [InlineData("as many as max_tokens", "resume_tokens holds 5")]
    [InlineData("end-of-sequence", "resume_tokens[0]")]
    public void Submit_BadResumeTokens_ThrowsInvalidInputNamingTheField(string scenario, string expected)
    {
        using var runner = model.OpenRunner();
        var engine = new GenerationEngine(runner, model.Tokenizer, _settings, _time);
        var request = scenario switch
        {
            "outside the vocabulary" => new GenerationRequest { Prompt = "Hello", MaxTokens = 8, ResumeTokens = [262, runner.Shape.VocabularySize] },
            "as many as max_tokens" => new GenerationRequest { Prompt = "Hello", MaxTokens = 5, ResumeTokens = [262, 262, 262, 262, 262] },
            "end-of-sequence" => new GenerationRequest { Prompt = "Hello", MaxTokens = 8, ResumeTokens = [50256] },
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var error = Assert.Throws<InvalidInputException>(() => engine.Submit(GenerationJobs.Create(request, engine, _time.GetUtcNow())));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Submit_ResumeTokensThatCompleteAStopString_ThrowsInvalidInput()
    {
        using var runner = model.OpenRunner();
        var job = new GenerationJob { PromptTokens = _prompt, MaxTokens = MaxTokens, IgnoreEos = true };
        var generated = await Tokens(await RunAsync(runner, job));
        var stop = model.Tokenizer.Decode(generated[..3]) ?? "";
        var engine = new GenerationEngine(runner, model.Tokenizer, _settings, _time);

        var error = Assert.Throws<InvalidInputException>(() =>
            engine.Submit(job with { StopStrings = [stop.Trim()], ResumeTokens = generated[..4].ToArray() }));

        Assert.Contains("resume_tokens", error.Message);
    }

    /// <summary>Three characters from about two thirds into a run's text: a stop string that ends that run early, mid-token where it can.</summary>
    private static string StopInside(List<GenerationUpdate> updates)
    {
        var text = string.Concat(updates.Select(u => u.Text));
        var start = text.Length * 2 / 3;
        while (text.IndexOf(text.Substring(start, 3), StringComparison.Ordinal) < start)
        {
            start++;
        }

        return text.Substring(start, 3);
    }

    /// <summary>Runs one job alone on a fresh engine to the end and returns its stream.</summary>
    private async Task<GenerationStream> RunAsync(IDecoderRunner runner, GenerationJob job)
    {
        var engine = new GenerationEngine(runner, model.Tokenizer, _settings, _time);
        var stream = engine.Submit(job);
        await RunToEnd(engine);
        return stream;
    }
}
