using Microsoft.ML.Tokenizers;

namespace Cluster.Benchmarks;

/// <summary>
/// Code completion's traffic: each session is one user editing one file, sending, keystroke after keystroke, the
/// file so far as the prompt. Session s's text is the project's <see cref="SentenceCorpus"/> from its own starting
/// sentence; request r's prompt is the first <see cref="FileTokens"/> + r × <see cref="TokensPerKeystroke"/>
/// tokens of it, so every request shares its session's previous prompt whole.
/// </summary>
public static class CodeCompletionWorkload
{
    /// <summary>Concurrent sessions.</summary>
    public const int Sessions = 16;

    /// <summary>Requests per session.</summary>
    public const int RequestsPerSession = 20;

    /// <summary>Tokens of the file every session starts from.</summary>
    public const int FileTokens = 1000;

    /// <summary>Tokens each request adds to the previous one's prompt.</summary>
    public const int TokensPerKeystroke = 4;

    /// <summary>Tokens a completion generates.</summary>
    public const int CompletionTokens = 8;

    /// <summary>The longest prompt plus its completion: the context the model needs.</summary>
    public const int ContextNeeded = FileTokens + ((RequestsPerSession - 1) * TokensPerKeystroke) + CompletionTokens;

    /// <summary>Each session's prompts in order, as token ids.</summary>
    public static int[][][] Create(Tokenizer tokenizer)
    {
        var sentences = SentenceCorpus.Build(4000);
        var longest = ContextNeeded - CompletionTokens;
        var sessions = new int[Sessions][][];
        for (var s = 0; s < Sessions; s++)
        {
            var tokens = new List<int>();
            for (var i = s * 211; tokens.Count < longest; i++)
            {
                tokens.AddRange(tokenizer.EncodeToIds(sentences[i % sentences.Length] + " "));
            }

            sessions[s] = [.. Enumerable.Range(0, RequestsPerSession).Select(r => tokens.Take(FileTokens + (r * TokensPerKeystroke)).ToArray())];
        }

        return sessions;
    }
}
