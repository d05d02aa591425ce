using Cluster.Contracts.Errors;
using Cluster.Inference.Generation;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.Tokenizers;

using static Cluster.Inference.Tests.Generation.EngineRuns;

namespace Cluster.Inference.Tests.Generation;

/// <summary>
/// The engine's scheduling policy, driven step by step over a fake decoder whose next token is a fixed
/// function of (last token, position): any scheduling mistake (a lost cache, a wrong position, a token
/// fed twice) shows up as a wrong token or a runner exception.
/// </summary>
public sealed class GenerationSchedulerTests
{
    private const int BlockTokens = 4;

    // The fake decoder's shape makes one token 2 bytes of cache, so a block of 4 tokens is 8 bytes.
    private const long BlockBytes = 2 * BlockTokens;

    private static readonly Tokenizer _tokenizer = DecoderTokenizer.Load(AppContext.BaseDirectory, "gpt2");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeDecoder _decoder = new();

    [Fact]
    public async Task Submit_WhileAnotherDecodes_JoinsAtNextStep()
    {
        var engine = Engine(Settings(blocks: 64));
        var first = engine.Submit(Job([1, 2, 3], maxTokens: 6));
        await engine.StepAsync();
        await engine.StepAsync();

        var second = engine.Submit(Job([4, 5], maxTokens: 4));
        await engine.StepAsync();

        Assert.Equal([(1L, 1, 4), (2L, 2, 0)], _decoder.Steps[^1]);
        await RunToEnd(engine);
        Assert.Equal(Expected([1, 2, 3], 6), await Tokens(first));
        Assert.Equal(Expected([4, 5], 4), await Tokens(second));
    }

    [Fact]
    public async Task Step_LongPromptJoins_PrefillsInChunksWhileOthersDecodeEveryStep()
    {
        var engine = Engine(Settings(blocks: 64) with { MaxStepTokens = 8 });
        int[] longPrompt = [.. Enumerable.Range(0, 30).Select(i => i % 64)];
        var decoding = engine.Submit(Job([7, 8], maxTokens: 12));
        await engine.StepAsync();

        var joining = engine.Submit(Job(longPrompt, maxTokens: 3));
        for (var step = 0; step < 5; step++)
        {
            await engine.StepAsync();
        }

        // 30 prompt tokens under a budget of 8 with one decode token per step: chunks of 7, 7, 7, 7, 2.
        Assert.Equal(
            [
                [(1L, 1, 2), (2L, 7, 0)],
                [(1L, 1, 3), (2L, 7, 7)],
                [(1L, 1, 4), (2L, 7, 14)],
                [(1L, 1, 5), (2L, 7, 21)],
                [(1L, 1, 6), (2L, 2, 28)],
            ],
            _decoder.Steps.Skip(1));
        await RunToEnd(engine);
        Assert.Equal(Expected([7, 8], 12), await Tokens(decoding));
        Assert.Equal(Expected(longPrompt, 3), await Tokens(joining));
    }

    [Fact]
    public async Task Step_SequenceFinishes_FreesItsBlocksThatStep()
    {
        var engine = Engine(Settings(blocks: 8));
        var shortOne = engine.Submit(Job([1, 2, 3, 4], maxTokens: 2));
        engine.Submit(Job([5, 6, 7, 8], maxTokens: 6));
        await engine.StepAsync();
        Assert.Equal(2 / 8.0, engine.Statistics().KvCacheUsage);

        // Both grow to 5 tokens (2 blocks each); the short one emits its last token and leaves at once.
        await engine.StepAsync();

        var statistics = engine.Statistics();
        Assert.Equal(2 / 8.0, statistics.KvCacheUsage);
        Assert.Equal(1, statistics.Running);
        var updates = await Updates(shortOne);
        Assert.Equal(FinishReasons.Length, updates[^1].FinishReason);
        Assert.Equal(Expected([1, 2, 3, 4], 2), updates.Select(u => u.TokenId));
    }

    [Fact]
    public async Task Step_MixedPriorities_LowerLevelFirstThenArrivalOrder()
    {
        var engine = Engine(Settings(blocks: 64) with { MaxRunningSequences = 1 });
        foreach (var priority in new[] { 2, 1, 2, 1, 0 })
        {
            engine.Submit(Job([3, 4], maxTokens: 1) with { Priority = priority });
        }

        await RunToEnd(engine);

        Assert.Equal([5L, 2L, 4L, 1L, 3L], _decoder.Steps.Select(step => Assert.Single(step).Id));
    }

    [Fact]
    public void Submit_PromptLargerThanWholeCache_ThrowsQueueFull()
    {
        var engine = Engine(Settings(blocks: 8));

        // 8 blocks hold 32 tokens: a prompt of 31 plus its first token fits, one of 32 never can.
        engine.Submit(Job([.. Enumerable.Repeat(1, 31)], maxTokens: 1));
        var error = Assert.Throws<QueueFullException>(() => engine.Submit(Job([.. Enumerable.Repeat(1, 32)], maxTokens: 1)));

        Assert.Contains("32 tokens", error.Message);
    }

    [Fact]
    public async Task Step_RequestWaitsPastMaxWaitForCache_FailsResourceExhaustedAndOthersComplete()
    {
        var engine = Engine(Settings(blocks: 8) with { MaxWait = TimeSpan.FromSeconds(5) });
        int[] big = [.. Enumerable.Repeat(9, 20)];
        var running = engine.Submit(Job(big, maxTokens: 8));
        await engine.StepAsync();

        // The running sequence holds 5 of 8 blocks; the next needs 4, so it waits.
        var starved = engine.Submit(Job([.. Enumerable.Repeat(2, 16)], maxTokens: 2));
        await engine.StepAsync();
        Assert.Equal(1, engine.Statistics().Waiting);
        _time.Advance(TimeSpan.FromSeconds(5));
        var late = engine.Submit(Job([3, 4], maxTokens: 2));
        await engine.StepAsync();

        await Assert.ThrowsAsync<QueueFullException>(() => Tokens(starved));
        await RunToEnd(engine);
        Assert.Equal(Expected(big, 8), await Tokens(running));
        Assert.Equal(Expected([3, 4], 2), await Tokens(late));
        Assert.Equal(1, engine.Statistics().Failed);
    }

    [Fact]
    public async Task Step_DeadlinePasses_FailsWithTimeoutAndFreesCache()
    {
        var engine = Engine(Settings(blocks: 64));
        var stream = engine.Submit(Job([1, 2], maxTokens: 50) with { Deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(2) });
        await engine.StepAsync();
        await engine.StepAsync();

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await engine.StepAsync());

        var received = new List<int>();
        await Assert.ThrowsAsync<InferenceTimeoutException>(async () =>
        {
            await foreach (var update in stream.ReadAllAsync())
            {
                received.Add(update.TokenId);
            }
        });
        Assert.Equal(Expected([1, 2], 2), received);
        Assert.Equal(0, engine.Statistics().KvCacheUsage);
    }

    [Fact]
    public async Task Step_CallerCancels_EndsStreamCancelledAndFreesCacheWithinOneStep()
    {
        var engine = Engine(Settings(blocks: 8));
        using var cancel = new CancellationTokenSource();
        var cancelled = engine.Submit(Job([1, 2, 3, 4], maxTokens: 20), cancel.Token);
        var other = engine.Submit(Job([5, 6, 7, 8], maxTokens: 3));
        await engine.StepAsync();
        Assert.Equal(2 / 8.0, engine.Statistics().KvCacheUsage);

        cancel.Cancel();
        await engine.StepAsync();

        Assert.Equal([(2L, 1, 4)], _decoder.Steps[^1]);
        Assert.Equal(2 / 8.0, engine.Statistics().KvCacheUsage);
        var updates = await Updates(cancelled);
        Assert.Equal(new GenerationUpdate(-1, "", FinishReasons.Cancelled, 4, 1), updates[^1]);
        await RunToEnd(engine);
        Assert.Equal(Expected([5, 6, 7, 8], 3), await Tokens(other));
        Assert.Equal(1, engine.Statistics().Finished[FinishReasons.Cancelled]);
    }

    [Fact]
    public async Task Submit_MoreThanMaxWaiting_ThrowsQueueFullUntilTheQueueDrains()
    {
        var engine = Engine(Settings(blocks: 64) with { MaxWaiting = 2 });
        engine.Submit(Job([1], maxTokens: 1));
        engine.Submit(Job([2], maxTokens: 1));

        Assert.Throws<QueueFullException>(() => engine.Submit(Job([3], maxTokens: 1)));
        await engine.StepAsync();
        var admitted = engine.Submit(Job([3], maxTokens: 1));
        await RunToEnd(engine);
        Assert.Equal(Expected([3], 1), await Tokens(admitted));
    }

    [Fact]
    public async Task Step_CacheRunsOutMidGeneration_PreemptsNewestWhichStillCompletes()
    {
        // 4 blocks (16 tokens) for two sequences that each grow to 12 tokens (3 blocks).
        var engine = Engine(Settings(blocks: 4));
        var older = engine.Submit(Job([1, 2, 3, 4], maxTokens: 8));
        var newer = engine.Submit(Job([5, 6, 7, 8], maxTokens: 8));

        await RunToEnd(engine);

        Assert.True(engine.Statistics().Preemptions > 0);
        Assert.Equal(Expected([1, 2, 3, 4], 8), await Tokens(older));
        Assert.Equal(Expected([5, 6, 7, 8], 8), await Tokens(newer));
        Assert.Equal(0, engine.Statistics().KvCacheUsage);
    }

    [Fact]
    public async Task Step_SequenceOutgrowsWholeCache_EndsWithLengthInsteadOfWaitingForever()
    {
        // 4 blocks hold 16 tokens: the prompt fits and 13 tokens are generated, but 4 + 20 never can.
        var engine = Engine(Settings(blocks: 4));
        var stream = engine.Submit(Job([1, 2, 3, 4], maxTokens: 20));

        await RunToEnd(engine);

        // Checked before reading, so that a sequence left waiting fails the test rather than hanging it.
        Assert.Equal(0, engine.Statistics().Waiting);
        Assert.Equal(0, engine.Statistics().KvCacheUsage);
        var updates = await Updates(stream);
        Assert.Equal(FinishReasons.Length, updates[^1].FinishReason);
        Assert.Equal(Expected([1, 2, 3, 4], 13), updates.Where(u => u.TokenId >= 0).Select(u => u.TokenId));
    }

    [Fact]
    public async Task RunAsync_TwoRequests_StreamsBothToTheEnd()
    {
        var engine = Engine(Settings(blocks: 64));
        using var stop = new CancellationTokenSource();
        var loop = engine.RunAsync(stop.Token);

        var first = Tokens(engine.Submit(Job([1, 2], maxTokens: 5)));
        var second = Tokens(engine.Submit(Job([3], maxTokens: 7)));

        Assert.Equal(Expected([1, 2], 5), await first);
        Assert.Equal(Expected([3], 7), await second);
        stop.Cancel();
        await loop;
    }

    /// <summary>The fake decoder's next token after <paramref name="token"/> at <paramref name="position"/>.</summary>
    private static int Next(int token, int position) => ((token * 7) + (position * 3) + 1) % FakeDecoder.Vocabulary;

    private static List<int> Expected(int[] prompt, int count)
    {
        var tokens = new List<int>();
        var (last, position) = (prompt[^1], prompt.Length - 1);
        for (var i = 0; i < count; i++)
        {
            last = Next(last, position++);
            tokens.Add(last);
        }

        return tokens;
    }

    private static GenerationSettings Settings(int blocks) => new()
    {
        ContextLength = 256,
        BlockTokens = BlockTokens,
        KvCacheBytes = blocks * BlockBytes,
        MaxRunningSequences = 8,
        MaxStepTokens = 16,
    };

    private static GenerationJob Job(int[] prompt, int maxTokens) =>
        new() { PromptTokens = prompt, MaxTokens = maxTokens, IgnoreEos = true };

    private GenerationEngine Engine(GenerationSettings settings) => new(_decoder, _tokenizer, settings, _time);

    /// <summary>
    /// A decoder whose logits are one-hot at <see cref="Next"/> of the last fed token and its position. It
    /// tracks cached lengths like a real runner (dropping sequences a step leaves out) and records each
    /// step's rows as (sequence, tokens fed, position).
    /// </summary>
    private sealed class FakeDecoder : IDecoderRunner
    {
        public const int Vocabulary = 64;

        private Dictionary<long, int> _cached = [];

        public DecoderShape Shape { get; } = new(Layers: 1, KvHeads: 1, HeadSize: 1, VocabularySize: Vocabulary, BytesPerElement: 1);

        public List<(long Id, int Count, int Position)[]> Steps { get; } = [];

        public StepOutput Run(IReadOnlyList<StepRow> rows)
        {
            var output = new StepOutput(rows.Count, Vocabulary);
            var kept = new Dictionary<long, int>();
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                var cached = row.Position == 0 ? 0 : _cached.GetValueOrDefault(row.SequenceId);
                if (cached != row.Position)
                {
                    throw new InvalidOperationException($"Sequence {row.SequenceId} is fed from {row.Position} but {cached} tokens are cached.");
                }

                kept[row.SequenceId] = row.Position + row.Tokens.Length;
                if (row.WantLogits)
                {
                    output.Logits[(r * Vocabulary) + Next(row.Tokens.Span[^1], row.Position + row.Tokens.Length - 1)] = 1;
                }
            }

            _cached = kept;
            Steps.Add([.. rows.Select(row => (row.SequenceId, row.Tokens.Length, row.Position))]);
            return output;
        }

        public void Dispose()
        {
        }
    }
}
