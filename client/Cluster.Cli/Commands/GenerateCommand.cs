using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cluster.Client;
using Cluster.Contracts.Generation;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>generate &lt;model&gt; "prompt" [--max-tokens N] [--temperature t] [--top-p p] [--top-k k] [--seed s]
/// [--stop str] [--version N] [--json]</c>: prints the text as the tokens arrive, then a summary line
/// (finish reason, token counts, time to first token, tokens per second) on stderr; with <c>--json</c>,
/// one object at the end.
/// </summary>
public static class GenerateCommand
{
    /// <summary>The command's usage line.</summary>
    public const string Usage =
        "Usage: generate <model> \"prompt\" [--max-tokens N] [--temperature t] [--top-p p] [--top-k k] [--seed s] [--stop str] [--version N] [--json]";

    /// <summary>Runs the command; <paramref name="error"/> receives the summary so <paramref name="output"/> holds only the text.</summary>
    public static async Task<int> RunAsync(InferenceClient client, CliArguments args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (args.Positional.Count != 2)
        {
            throw new UsageException(Usage);
        }

        var model = args.Positional[0];
        var request = new GenerationRequest
        {
            Prompt = args.Positional[1],
            MaxTokens = Parse("--max-tokens", args, s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
                : (int?)null),
            Temperature = Parse("--temperature", args, s => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (float?)null),
            TopP = Parse("--top-p", args, s => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (float?)null),
            TopK = Parse("--top-k", args, s => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : (int?)null),
            Seed = Parse("--seed", args, s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (ulong?)null),
            Stop = [.. args.All("--stop")],
        };
        var version = Parse("--version", args, s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (long?)null);
        var json = args.Has("--json");

        var text = new StringBuilder();
        GeneratedToken? last = null;
        var clock = Stopwatch.StartNew();
        TimeSpan? firstToken = null;
        await foreach (var token in client.GenerateAsync(model, request, version, cancellationToken))
        {
            firstToken ??= clock.Elapsed;
            last = token;
            text.Append(token.Text);
            if (!json && token.Text.Length > 0)
            {
                // Flushed per token so a terminal (or a pipe) shows the text as it is generated.
                await output.WriteAsync(token.Text);
                await output.FlushAsync(cancellationToken);
            }
        }

        var elapsed = clock.Elapsed;
        var finishReason = last?.FinishReason ?? "";
        var promptTokens = last?.PromptTokens ?? 0;
        var completionTokens = last?.GeneratedTokens ?? 0;
        var ttftMs = Math.Round((firstToken ?? elapsed).TotalMilliseconds, 1);
        var tokensPerSecond = elapsed > TimeSpan.Zero ? Math.Round(completionTokens / elapsed.TotalSeconds, 1) : 0;
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(new
            {
                text = text.ToString(),
                finish_reason = finishReason,
                prompt_tokens = promptTokens,
                completion_tokens = completionTokens,
                ttft_ms = ttftMs,
                tokens_per_s = tokensPerSecond,
            }, CliJson.Options));
            return 0;
        }

        await output.WriteLineAsync();
        await output.FlushAsync(cancellationToken);
        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"finish: {finishReason}, prompt {promptTokens} tokens, generated {completionTokens} tokens, first token {ttftMs} ms, {tokensPerSecond} tokens/s"));
        return 0;
    }

    private static T? Parse<T>(string option, CliArguments args, Func<string, T?> parse)
        where T : struct =>
        args.Value(option) is { } text
            ? parse(text) ?? throw new UsageException($"{option} '{text}' is not a valid number. {Usage}")
            : null;
}
