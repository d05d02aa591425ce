using Cluster.Inference.Generation;

namespace Cluster.Benchmarks;

/// <summary>
/// The requests of the <c>generation</c> scenario, drawn once from fixed seeds so every schedule serves the
/// same ones in the same order: prompts of 16–512 random GPT-2 token ids (uniform length), max_tokens
/// log-uniform over 8–256 (most requests short, a long tail of long ones, as in chat traffic), greedy,
/// end-of-sequence ignored so each request generates exactly its max_tokens.
/// </summary>
public static class GenerationWorkload
{
    /// <summary>Token ids are drawn below this: GPT-2's 50,257 ids less the end-of-text token 50256.</summary>
    public const int Vocabulary = 50256;

    public const int MinPromptTokens = 16;
    public const int MaxPromptTokens = 512;
    public const int MinMaxTokens = 8;
    public const int MaxMaxTokens = 256;

    /// <summary><paramref name="count"/> requests; the same ones for the same seed.</summary>
    public static GenerationJob[] Create(int count, int seed)
    {
        // Separate streams, so changing how max_tokens is drawn leaves the prompts as they were.
        var prompts = new Random(seed);
        var lengths = new Random(seed + 1);
        var jobs = new GenerationJob[count];
        for (var i = 0; i < count; i++)
        {
            var prompt = new int[prompts.Next(MinPromptTokens, MaxPromptTokens + 1)];
            for (var t = 0; t < prompt.Length; t++)
            {
                prompt[t] = prompts.Next(Vocabulary);
            }

            var logMin = Math.Log(MinMaxTokens);
            var logMax = Math.Log(MaxMaxTokens);
            var maxTokens = (int)Math.Round(Math.Exp(logMin + (lengths.NextDouble() * (logMax - logMin))));
            jobs[i] = new GenerationJob
            {
                PromptTokens = prompt,
                MaxTokens = Math.Clamp(maxTokens, MinMaxTokens, MaxMaxTokens),
                Sampling = SamplingParameters.Greedy,
                IgnoreEos = true,
            };
        }

        return jobs;
    }
}
