using System.Text;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;

namespace Cluster.Inference.Generation;

/// <summary>Turns a caller's request into an engine job: encodes the prompt, fills in the model's defaults, and refuses bad settings naming the
/// field.</summary>
public static class GenerationJobs
{
    /// <summary>Most stop strings per request.</summary>
    public const int MaxStopStrings = 16;

    /// <summary>The job for <paramref name="request"/> on <paramref name="engine"/>; throws InvalidInputException naming the field.</summary>
    public static GenerationJob Create(GenerationRequest request, GenerationEngine engine, DateTimeOffset now)
    {
        var settings = engine.Settings;
        var (text, field, stop) = PromptOf(request, settings.ChatTemplate);

        var temperature = request.Temperature ?? settings.DefaultSampling.Temperature;
        if (!(temperature >= 0) || float.IsInfinity(temperature))
        {
            throw new InvalidInputException($"temperature must be 0 (greedy) or more, got {request.Temperature}.");
        }

        var topP = request.TopP ?? settings.DefaultSampling.TopP;
        if (!(topP is > 0 and <= 1))
        {
            throw new InvalidInputException($"top_p must be above 0 and at most 1, got {request.TopP}.");
        }

        var topK = request.TopK ?? settings.DefaultSampling.TopK;
        if (topK < 0)
        {
            throw new InvalidInputException($"top_k must be 0 (off) or more, got {request.TopK}.");
        }

        // Refuse unread what cannot fit; what can is encoded in time linear in its length (PromptEncoder).
        var context = settings.ContextLength;
        var bytes = Encoding.UTF8.GetByteCount(text);
        var longestToken = DecoderTokenizer.LongestTokenBytes(engine.Tokenizer);
        if (bytes > (long)context * longestToken)
        {
            throw new InvalidInputException(
                $"{field} is {bytes} bytes of UTF-8; no token of the model's tokenizer stands for more than {longestToken}, so it cannot fit the context " +
                    $"of {context} tokens.");
        }

        var prompt = PromptEncoder.EncodeToIds(engine.Tokenizer, text);
        if (prompt.Count == 0)
        {
            throw new InvalidInputException($"{field} encodes to no tokens.");
        }

        // Checked here as well as at Submit so that the caller's error names its own fields, before a job exists.
        if (prompt.Count >= context)
        {
            throw new InvalidInputException($"{field} encodes to {prompt.Count} tokens; the model's context holds {context}, so it must encode to fewer " +
                $"than {context}.");
        }

        var maxTokens = request.MaxTokens ?? Math.Min(settings.DefaultMaxTokens, context - prompt.Count);
        if (maxTokens <= 0 || prompt.Count + maxTokens > context)
        {
            throw new InvalidInputException(
                $"max_tokens must be between 1 and {context - prompt.Count} (the context of {context} tokens minus the prompt's {prompt.Count}); it " +
                    $"was {maxTokens}.");
        }

        var deadline = request.Deadline;
        if (request.TimeoutMicroseconds > 0)
        {
            var timeout = now + TimeSpan.FromMicroseconds(request.TimeoutMicroseconds);
            deadline = deadline is { } given && given < timeout ? given : timeout;
        }

        return new GenerationJob
        {
            PromptTokens = [.. prompt],
            MaxTokens = maxTokens,
            Sampling = new SamplingParameters(temperature, topP, topK, request.Seed ?? (ulong)Random.Shared.NextInt64()),
            StopStrings = stop,
            Priority = request.Priority,
            Deadline = deadline,
            IgnoreEos = request.IgnoreEos,
            ResumeTokens = request.ResumeTokens ?? [],
        };
    }

    /// <summary>The prompt text (the request's, or its messages rendered by the model's chat template), the field it came from, and the stop strings that
    /// apply.</summary>
    private static (string Text, string Field, IReadOnlyList<string> Stop) PromptOf(GenerationRequest request, ChatTemplate template)
    {
        var stop = request.Stop ?? [];
        if (stop.Length > MaxStopStrings || Array.Exists(stop, string.IsNullOrEmpty))
        {
            throw new InvalidInputException($"stop takes up to {MaxStopStrings} non-empty strings, " +
                $"got {stop.Length}{(Array.Exists(stop, string.IsNullOrEmpty) ? " with an empty one" : "")}.");
        }

        var messages = request.Messages ?? [];
        if (messages.Length == 0)
        {
            return string.IsNullOrEmpty(request.Prompt)
                ? throw new InvalidInputException("text_input is empty: a prompt needs at least one character.")
                : (request.Prompt, "text_input", stop);
        }

        if (!string.IsNullOrEmpty(request.Prompt))
        {
            throw new InvalidInputException("Give either a prompt (text_input) or messages, not both.");
        }

        return (template.Render(messages), "messages", [.. stop, .. template.StopStrings.Except(stop)]);
    }
}
