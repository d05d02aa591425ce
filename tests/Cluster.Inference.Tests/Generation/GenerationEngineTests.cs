using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Devices;
using Cluster.Inference.Generation;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.Tokenizers;
using Xunit.Abstractions;

using static Cluster.Inference.Tests.Generation.EngineRuns;

namespace Cluster.Inference.Tests.Generation;

/// <summary>The engine over the real demo decoder (ONNX Runtime), checked against the managed reference and against itself alone.</summary>
public sealed class GenerationEngineTests(GenerationEngineTests.DemoModel model, ITestOutputHelper output)
    : IClassFixture<GenerationEngineTests.DemoModel>
{
    private const float Tolerance = 1e-4f;

    // "The quick brown fox jumps over the" in GPT-2's BPE.
    private static readonly int[] _prompt = [464, 2068, 7586, 21831, 18045, 625, 262];

    private static readonly int[] _promptLengths = [3, 200, 17, 45, 8, 120, 5, 64, 33, 90, 12, 150, 27, 70, 4, 100];
    private static readonly int[] _maxTokens = [40, 1, 25, 7, 33, 12, 40, 3, 18, 29, 9, 2, 36, 15, 21, 5];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task StepAsync_OneGreedyRequest_MatchesReferenceTokensAndLogits()
    {
        using var runner = new RecordingRunner(model.OpenRunner());
        var engine = Engine(runner);
        var stream = engine.Submit(Greedy(_prompt, 12));
        await RunToEnd(engine);
        var tokens = await Tokens(stream);

        using var reference = new ReferenceDecoder();
        var logits = reference.Prefill(1, _prompt);
        var expected = new List<int>();
        for (var step = 0; step < 12; step++)
        {
            AssertClose(logits, runner.Logits[step]);
            expected.Add(ArgMax(logits));
            logits = reference.Run([new StepRow(1, new[] { expected[^1] }, _prompt.Length + step, WantLogits: true)]).Logits;
        }

        Assert.Equal(expected, tokens);
        Assert.Equal(12, runner.Logits.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StepAsync_SixteenStaggeredRequests_EachMatchesItsTokensAlone(bool cachePressure)
    {
        var alone = model.AloneTokens.Value;
        using var runner = model.OpenRunner();

        // 24 blocks of 16 tokens hold the longest request (201 tokens) but not the batch's 1,244.
        var settings = cachePressure ? BatchSettings with { KvCacheBytes = 24 * 16 * runner.Shape.KvBytesPerToken } : BatchSettings;
        var engine = Engine(runner, settings);
        var streams = new List<GenerationStream>();
        foreach (var wave in new[] { 6, 5, 5 })
        {
            for (var i = 0; i < wave; i++)
            {
                var index = streams.Count;
                streams.Add(engine.Submit(Greedy(Prompt(index, _promptLengths[index]), _maxTokens[index])));
            }

            for (var step = 0; step < 3; step++)
            {
                await engine.StepAsync();
            }
        }

        await RunToEnd(engine);

        for (var i = 0; i < streams.Count; i++)
        {
            Assert.Equal(alone[i], await Tokens(streams[i]));
        }

        var statistics = engine.Statistics();
        Assert.Equal(cachePressure, statistics.Preemptions > 0);
        Assert.Equal(_maxTokens.Sum(), statistics.GeneratedTokens);
    }

    [Fact]
    public async Task StepAsync_SeededSampling_SameTokensOnTwoEnginesAndAloneOrBatched()
    {
        var job = Greedy(Prompt(3, 10), 30) with { Sampling = new SamplingParameters(0.8f, 0.9f, 0, 7) };
        using var firstRunner = model.OpenRunner();
        using var secondRunner = model.OpenRunner();

        var first = Engine(firstRunner);
        var firstStream = first.Submit(job);
        await RunToEnd(first);
        var second = Engine(secondRunner);
        second.Submit(Greedy(Prompt(5, 40), 20));
        await second.StepAsync();
        var batchedStream = second.Submit(job);
        second.Submit(Greedy(Prompt(6, 3), 35));
        await RunToEnd(second);

        var alone = await Tokens(firstStream);
        Assert.Equal(alone, await Tokens(batchedStream));
        Assert.Equal(30, alone.Count);

        // Sampling must actually differ from greedy here, or the test would not exercise the sampler.
        var greedy = Engine(firstRunner);
        var greedyStream = greedy.Submit(Greedy(Prompt(3, 10), 30));
        await RunToEnd(greedy);
        Assert.NotEqual(alone, await Tokens(greedyStream));
    }

    [Fact]
    public async Task StepAsync_StopStringSpansTwoTokens_TextEndsRightBeforeIt()
    {
        using var runner = model.OpenRunner();
        var generated = await Tokens(await Run(runner, Greedy(_prompt, 40)));

        // The first pair of whole-text tokens whose concatenation first occurs exactly where they start.
        var full = Decode(generated);
        var (stop, before) = ((string?)null, "");
        for (var k = 1; k + 1 < generated.Count && stop is null; k++)
        {
            var upTo = Decode(generated[..k]);
            var withFirst = Decode(generated[..(k + 1)]);
            var withSecond = Decode(generated[..(k + 2)]);
            if (IsWhole(upTo) && IsWhole(withSecond) && withFirst.StartsWith(upTo, StringComparison.Ordinal)
                && withSecond.StartsWith(withFirst, StringComparison.Ordinal)
                && withFirst.Length > upTo.Length && withSecond.Length > withFirst.Length)
            {
                var candidate = withSecond[upTo.Length..];
                if (full.IndexOf(candidate, StringComparison.Ordinal) == upTo.Length)
                {
                    (stop, before) = (candidate, upTo);
                }
            }
        }

        Assert.NotNull(stop);
        var updates = await Updates(await Run(runner, Greedy(_prompt, 40) with { StopStrings = [stop] }));

        Assert.Equal(before, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(FinishReasons.Stop, updates[^1].FinishReason);
        Assert.Equal(1, updates.Count(u => u.FinishReason is not null));
    }

    [Fact]
    public async Task StepAsync_MultiByteCharactersSplitAcrossTokens_StreamsOnlyWholeCharacters()
    {
        // The random-weight model seldom picks a partial character itself, so the steering runner makes it
        // write one between its own greedy tokens every 20 tokens.
        var script = model.Tokenizer.EncodeToIds(" 日本語 🙂 é").ToArray();
        Assert.Contains(script, id => Decode([id]).Contains('\uFFFD'));
        using var runner = new SteeringRunner(model.OpenRunner(), script, period: 20);
        var updates = await Updates(await Run(runner, Greedy(_prompt, 200)));
        var ids = updates.Select(u => u.TokenId).ToList();

        Assert.Equal(200, ids.Count);
        foreach (var update in updates)
        {
            Assert.True(IsWhole(update.Text), $"Update {update.GeneratedTokens} streamed a partial character: {Escape(update.Text)}");
        }

        var text = string.Concat(updates.Select(u => u.Text));
        Assert.Equal(Decode(ids), text);
        Assert.Contains("日本語 🙂 é", text);
    }

    [Theory]
    [InlineData("empty prompt", "text_input")]
    [InlineData("prompt past the context", "text_input")]
    [InlineData("max_tokens 0", "max_tokens")]
    [InlineData("max_tokens past the context", "max_tokens")]
    [InlineData("negative temperature", "temperature")]
    [InlineData("top_p 0", "top_p")]
    [InlineData("top_p 1.5", "top_p")]
    [InlineData("negative top_k", "top_k")]
    [InlineData("unknown role", "messages[1].role")]
    [InlineData("prompt and messages", "messages")]
    [InlineData("empty stop string", "stop")]
    public void Create_BadField_ThrowsInvalidInputNamingIt(string scenario, string field)
    {
        using var runner = model.OpenRunner();
        var engine = Engine(runner);
        var request = scenario switch
        {
            "empty prompt" => new GenerationRequest { Prompt = "" },
            "prompt past the context" => new GenerationRequest { Prompt = string.Concat(Enumerable.Repeat(" a", 1100)) },
            "max_tokens 0" => new GenerationRequest { Prompt = "Hello", MaxTokens = 0 },
            "max_tokens past the context" => new GenerationRequest { Prompt = "Hello", MaxTokens = 1024 },
            "negative temperature" => new GenerationRequest { Prompt = "Hello", Temperature = -0.1f },
            "top_p 0" => new GenerationRequest { Prompt = "Hello", TopP = 0 },
            "top_p 1.5" => new GenerationRequest { Prompt = "Hello", TopP = 1.5f },
            "negative top_k" => new GenerationRequest { Prompt = "Hello", TopK = -1 },
            "unknown role" => new GenerationRequest { Messages = [new("user", "Hi"), new("narrator", "Meanwhile")] },
            "prompt and messages" => new GenerationRequest { Prompt = "Hello", Messages = [new("user", "Hi")] },
            "empty stop string" => new GenerationRequest { Prompt = "Hello", Stop = [""] },
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var error = Assert.Throws<InvalidInputException>(() => GenerationJobs.Create(request, engine, _time.GetUtcNow()));

        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Create_Messages_RendersThemWithTheModelsTemplateAndStopsAtItsEndOfTurn()
    {
        using var runner = model.OpenRunner();
        var engine = Engine(runner, BatchSettings with { ChatTemplate = ChatTemplate.Named(ChatTemplate.ChatMl) });
        var messages = new ChatTurn[] { new("system", "Be brief."), new("user", "Hi") };

        var job = GenerationJobs.Create(new GenerationRequest { Messages = messages, Stop = ["\n\n"] }, engine, _time.GetUtcNow());

        var rendered = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
        Assert.Equal(engine.Tokenizer.EncodeToIds(rendered), job.PromptTokens);
        Assert.Equal(["\n\n", "<|im_end|>"], job.StopStrings);
    }

    [Fact]
    public async Task Statistics_BatchedRun_ReportsOverheadFigures()
    {
        using var runner = model.OpenRunner();
        var engine = Engine(runner, BatchSettings);
        for (var i = 0; i < 8; i++)
        {
            engine.Submit(Greedy(Prompt(i, 5 + (7 * i)), 24));
        }

        await RunToEnd(engine);
        var statistics = engine.Statistics();
        output.WriteLine($"steps {statistics.Steps}, fed {statistics.FedTokens}, generated {statistics.GeneratedTokens}");
        output.WriteLine($"StepOverheadFraction {statistics.StepOverheadFraction:0.000}");
        output.WriteLine($"KvBytesCopiedPerToken {statistics.KvBytesCopiedPerToken:0}");
        output.WriteLine($"PaddingFraction {statistics.PaddingFraction:0.000}");

        Assert.Equal(8 * 24, statistics.GeneratedTokens);
        Assert.Equal(8, statistics.Finished[FinishReasons.Length]);
        Assert.InRange(statistics.StepOverheadFraction, 0, 1);
        Assert.InRange(statistics.PaddingFraction, 0, 1);
    }

    private static GenerationSettings BatchSettings { get; } = new()
    {
        EosTokenIds = [50256],
        ContextLength = 1024,
        MaxRunningSequences = 16,
        MaxStepTokens = 32,
    };

    /// <summary>A deterministic prompt of <paramref name="length"/> ordinary GPT-2 ids, different per <paramref name="seed"/>.</summary>
    private static int[] Prompt(int seed, int length) =>
        [.. Enumerable.Range(0, length).Select(i => 256 + (((seed * 7919) + (i * 104729)) % 40000))];

    private static GenerationJob Greedy(int[] prompt, int maxTokens) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, IgnoreEos = true };

    /// <summary>Whether <paramref name="text"/> holds no U+FFFD and no surrogate without its pair.</summary>
    private static bool IsWhole(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\uFFFD' || char.IsLowSurrogate(text[i]))
            {
                return false;
            }

            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
        }

        return true;
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c < 128 ? c.ToString() : $"\\u{(int)c:X4}"));

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        Assert.True(worst <= Tolerance, $"Logits differ from the reference by up to {worst}.");
    }

    private string Decode(IEnumerable<int> ids) => model.Tokenizer.Decode(ids) ?? "";

    private GenerationEngine Engine(IDecoderRunner runner, GenerationSettings? settings = null) =>
        new(runner, model.Tokenizer, settings ?? BatchSettings, _time);

    /// <summary>Runs one request alone on a fresh engine to the end and returns its stream.</summary>
    private async Task<GenerationStream> Run(IDecoderRunner runner, GenerationJob job)
    {
        var engine = Engine(runner);
        var stream = engine.Submit(job);
        await RunToEnd(engine);
        return stream;
    }

    /// <summary>The demo decoder written once for the class, its tokenizer, and each batch request's tokens alone.</summary>
    public sealed class DemoModel : IDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("generation-engine-").FullName;

        public DemoModel()
        {
            DemoDecoder.Write(_root);
            ModelPath = Path.Combine(_root, DemoDecoder.Name, "1", "model.onnx");
            Tokenizer = DecoderTokenizer.Load(Path.GetDirectoryName(ModelPath)!, "gpt2");
            AloneTokens = new(ComputeAlone);
        }

        public string ModelPath { get; }

        public Tokenizer Tokenizer { get; }

        /// <summary>The tokens of every batch request run alone, shared by the batch tests.</summary>
        public Lazy<List<int>[]> AloneTokens { get; }

        public OnnxDecoderRunner OpenRunner() => new(ModelPath, DeviceDescriptor.Cpu);

        public void Dispose() => Directory.Delete(_root, recursive: true);

        private List<int>[] ComputeAlone()
        {
            using var runner = OpenRunner();
            var results = new List<int>[_promptLengths.Length];
            for (var i = 0; i < results.Length; i++)
            {
                var engine = new GenerationEngine(runner, Tokenizer, BatchSettings, TimeProvider.System);
                var stream = engine.Submit(Greedy(Prompt(i, _promptLengths[i]), _maxTokens[i]));
                RunToEnd(engine).GetAwaiter().GetResult();
                results[i] = [.. Updates(stream).GetAwaiter().GetResult().Select(u => u.TokenId)];
            }

            return results;
        }
    }

    /// <summary>
    /// Passes steps through to a runner but, for the first tokens of every <c>period</c> a sequence
    /// generates, raises the script's next token above the best logit so that greedy sampling picks it.
    /// </summary>
    private sealed class SteeringRunner(IDecoderRunner inner, int[] script, int period) : IDecoderRunner
    {
        private readonly Dictionary<long, int> _generated = [];

        public DecoderShape Shape => inner.Shape;

        public StepOutput Run(IReadOnlyList<StepRow> rows)
        {
            var result = inner.Run(rows);
            for (var r = 0; r < rows.Count; r++)
            {
                if (!rows[r].WantLogits)
                {
                    continue;
                }

                var index = _generated.GetValueOrDefault(rows[r].SequenceId) % period;
                _generated[rows[r].SequenceId] = _generated.GetValueOrDefault(rows[r].SequenceId) + 1;
                if (index < script.Length)
                {
                    var logits = result.Logits.AsSpan(r * result.VocabularySize, result.VocabularySize);
                    logits[script[index]] = Max(logits) + 1;
                }
            }

            return result;
        }

        public void Dispose() => inner.Dispose();

        private static float Max(ReadOnlySpan<float> values)
        {
            var max = float.NegativeInfinity;
            foreach (var value in values)
            {
                max = Math.Max(max, value);
            }

            return max;
        }
    }

    /// <summary>Passes steps through to a runner and keeps a copy of every logits row the engine asked for.</summary>
    private sealed class RecordingRunner(IDecoderRunner inner) : IDecoderRunner
    {
        public DecoderShape Shape => inner.Shape;

        public List<float[]> Logits { get; } = [];

        public StepOutput Run(IReadOnlyList<StepRow> rows)
        {
            var result = inner.Run(rows);
            for (var r = 0; r < rows.Count; r++)
            {
                if (rows[r].WantLogits)
                {
                    Logits.Add(result.Row(r).ToArray());
                }
            }

            return result;
        }

        public void Dispose() => inner.Dispose();
    }
}
