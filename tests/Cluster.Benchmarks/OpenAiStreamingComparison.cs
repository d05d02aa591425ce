using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Generation;
using Microsoft.ML.Tokenizers;

namespace Cluster.Benchmarks;

/// <summary>
/// The <c>generation</c> scenario's edge figure: one silo serving <c>tiny_gpt</c>, the same closed-loop callers
/// streaming the same requests (the workload's prompts as text, its max_tokens, greedy, end-of-sequence ignored)
/// first through the SDK (<c>InferenceClient.GenerateAsync</c> over the cluster client), then through the silo's
/// OpenAI streaming endpoint (<c>POST /v1/completions</c>, <c>stream</c> with usage). Tokens are counted from
/// every piece received inside the window (the SDK's tokens; the endpoint's completion_tokens growth per chunk),
/// each arm after its own warm-up.
/// </summary>
public static class OpenAiStreamingComparison
{
    /// <summary>Measures both arms; <paramref name="jobs"/> are the scenario's requests, their prompts decoded by <paramref name="tokenizer"/>.</summary>
    public static async Task<OpenAiStreamingFigures> MeasureAsync(GenerationJob[] jobs, Tokenizer tokenizer, int callers, TimeSpan warmup, TimeSpan measure)
    {
        var requests =
            jobs.Select(j =>
                new GenerationRequest { Prompt = tokenizer.Decode(j.PromptTokens) ?? "", MaxTokens = j.MaxTokens, Temperature = 0, IgnoreEos = true })
                    .ToArray();
        await using var cluster = await BenchCluster.StartAsync(folder => DemoDecoder.Write(folder));
        using var http =
            new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = callers * 2, MaxResponseDrainSize = 0 }) { BaseAddress =
                new Uri(cluster.HttpAddress) };

        var sdk = await RunAsync(callers, warmup, measure, requests, (request, counted, cut) => SdkAsync(cluster, request, counted, cut));
        Console.WriteLine($"  sdk       {sdk.TokensPerSecond,9:0.0} tokens/s  {sdk.Completed,4} requests ({sdk.Failed} failed)");
        var openAi = await RunAsync(callers, warmup, measure, requests, (request, counted, cut) => OpenAiAsync(http, request, counted, cut));
        Console.WriteLine($"  openai    {openAi.TokensPerSecond,9:0.0} tokens/s  {openAi.Completed,4} requests ({openAi.Failed} failed)");
        return new OpenAiStreamingFigures { Sdk = sdk, OpenAi = openAi, Callers = callers };
    }

    /// <summary>The callers through warm-up and window; each submits the next request of the shared sequence when its previous one ends.</summary>
    private static async Task<ArmFigures> RunAsync(
        int callers, TimeSpan warmup, TimeSpan measure, GenerationRequest[] requests, Func<GenerationRequest, Action<int>, CancellationToken, Task> stream)
    {
        var start = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = start + (long)(measure.TotalSeconds * Stopwatch.Frequency);
        long tokens = 0, completed = 0, failed = 0;
        var next = -1;
        using var cut = new CancellationTokenSource(warmup + measure);
        bool Inside() => Stopwatch.GetTimestamp() is var now && now >= start && now < end;

        async Task CallerAsync()
        {
            while (!cut.IsCancellationRequested)
            {
                var request = requests[Interlocked.Increment(ref next) % requests.Length];
                try
                {
                    await stream(request, count =>
                    {
                        if (Inside())
                        {
                            Interlocked.Add(ref tokens, count);
                        }
                    }, cut.Token);
                    Interlocked.Add(ref completed, Inside() ? 1 : 0);
                }
                catch (OperationCanceledException) when (cut.IsCancellationRequested)
                {
                }
                catch (Exception e) when (e is InferenceException or HttpRequestException or InvalidDataException)
                {
                    Interlocked.Add(ref failed, Inside() ? 1 : 0);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(CallerAsync)));
        return new ArmFigures { TokensPerSecond = Math.Round(tokens / measure.TotalSeconds, 1), Completed = completed, Failed = failed };
    }

    private static async Task SdkAsync(BenchCluster cluster, GenerationRequest request, Action<int> counted, CancellationToken cut)
    {
        await foreach (var token in cluster.Inference.GenerateAsync(DemoDecoder.Name, request, cancellationToken: cut))
        {
            counted(token.TokenId >= 0 ? 1 : 0);
        }
    }

    /// <summary>One streamed completion; each chunk counts the tokens it brought, read from its usage where present, else one per chunk with text, reconciled
    /// at the usage chunk.</summary>
    private static async Task OpenAiAsync(HttpClient http, GenerationRequest request, Action<int> counted, CancellationToken cut)
    {
        var body = JsonSerializer.Serialize(
            new { model = DemoDecoder.Name, prompt = request.Prompt, max_tokens = request.MaxTokens, temperature = 0, ignore_eos = true, stream = true,
                stream_options = new { include_usage = true } });
        using var message =
            new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cut);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidDataException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cut)}");
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cut));
        var pieces = 0;
        while (await reader.ReadLineAsync(cut) is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.Contains("\"usage\":{", StringComparison.Ordinal))
            {
                // The usage chunk: the tokens that came in pieces without text are counted now.
                using var usage = JsonDocument.Parse(line.AsMemory(6));
                counted(usage.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() - pieces);
                return;
            }

            if (!line.Contains("\"text\":\"\"", StringComparison.Ordinal))
            {
                pieces++;
                counted(1);
            }
        }
    }
}

/// <summary>The OpenAI streaming endpoint against the SDK on the same single-silo cluster.</summary>
public sealed record OpenAiStreamingFigures
{
    /// <summary>Closed-loop streams per arm.</summary>
    [JsonPropertyName("callers")] public required int Callers { get; init; }

    /// <summary>Through <c>InferenceClient.GenerateAsync</c>.</summary>
    [JsonPropertyName("sdk")] public required ArmFigures Sdk { get; init; }

    /// <summary>Through <c>POST /v1/completions</c> with <c>stream: true</c>.</summary>
    [JsonPropertyName("openai")] public required ArmFigures OpenAi { get; init; }

    /// <summary>The endpoint's tokens/s over the SDK's (target at least 0.85).</summary>
    [JsonPropertyName("openai_over_sdk_tokens_per_second")]
    public double OpenAiOverSdkTokensPerSecond => Sdk.TokensPerSecond > 0 ? Math.Round(OpenAi.TokensPerSecond / Sdk.TokensPerSecond, 3) : 0;
}

/// <summary>One arm's figures inside the window.</summary>
public sealed record ArmFigures
{
    [JsonPropertyName("tokens_per_s")] public required double TokensPerSecond { get; init; }

    [JsonPropertyName("requests_completed")] public required long Completed { get; init; }

    [JsonPropertyName("requests_failed")] public required long Failed { get; init; }
}
