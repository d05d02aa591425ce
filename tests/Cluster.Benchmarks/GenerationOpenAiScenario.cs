using Cluster.Inference.Generation;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- generation-openai</c>: only the OpenAI-streaming-versus-SDK part of <c>-- generation</c>
/// (<see cref="OpenAiStreamingComparison"/>), on the same requests. Writes artifacts/bench/generation-openai.json.
/// </summary>
public sealed class GenerationOpenAiScenario : IBenchScenario
{
    private const int Callers = 32;

    /// <inheritdoc />
    public string Name => "generation-openai";

    /// <inheritdoc />
    public string Summary => $"{DemoDecoder.Name}: the OpenAI streaming endpoint's tokens/s over the SDK's, {Callers} streams, one silo";

    /// <inheritdoc />
    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(options);
        var folder = Directory.CreateTempSubdirectory("generation-openai-bench-");
        try
        {
            DemoDecoder.Write(folder.FullName);
            var tokenizer = DecoderTokenizer.Load(Path.Combine(folder.FullName, DemoDecoder.Name, "1"), "gpt2");
            Console.WriteLine($"generation-openai: {DemoDecoder.Name}, {Callers} streams, {options.WarmupSeconds:0.##} s warm-up + {options.Seconds:0.##} s " +
                "per arm");
            var figures = await OpenAiStreamingComparison.MeasureAsync(
                GenerationWorkload.Create(GenerationScenario.WorkloadSize, GenerationScenario.WorkloadSeed), tokenizer, Callers, options.Warmup,
                    options.Measure);
            Console.WriteLine($"  openai / sdk tokens/s: {figures.OpenAiOverSdkTokensPerSecond:0.000} (target >= 0.85)");
            Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "generation-openai.json", figures)}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
