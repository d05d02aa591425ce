using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The figures of the <c>generation</c> scenario, as written to <c>artifacts/bench/generation.json</c>.</summary>
public sealed record GenerationResults
{
    [JsonPropertyName("continuous_tokens_per_s")] public required double ContinuousTokensPerSecond { get; init; }

    [JsonPropertyName("static_tokens_per_s")] public required double StaticTokensPerSecond { get; init; }

    [JsonPropertyName("sequential_tokens_per_s")] public required double SequentialTokensPerSecond { get; init; }

    /// <summary>Target: at least 2.</summary>
    [JsonPropertyName("continuous_over_static")] public double ContinuousOverStatic => Ratio(ContinuousTokensPerSecond, StaticTokensPerSecond);

    /// <summary>Target: at least 5.</summary>
    [JsonPropertyName("continuous_over_sequential")] public double ContinuousOverSequential => Ratio(ContinuousTokensPerSecond, SequentialTokensPerSecond);

    /// <summary>Continuous: submission to first token, client side.</summary>
    [JsonPropertyName("ttft_p50_ms")] public required double TtftP50Milliseconds { get; init; }

    [JsonPropertyName("ttft_p99_ms")] public required double TtftP99Milliseconds { get; init; }

    /// <summary>Continuous: between consecutive tokens of one request, client side.</summary>
    [JsonPropertyName("itl_p50_ms")] public required double ItlP50Milliseconds { get; init; }

    [JsonPropertyName("itl_p99_ms")] public required double ItlP99Milliseconds { get; init; }

    /// <summary>Continuous: step time outside ONNX Runtime's run ÷ step time, over the measured window. Target: at most 0.15.</summary>
    [JsonPropertyName("step_overhead_fraction")] public required double StepOverheadFraction { get; init; }

    [JsonPropertyName("kv_bytes_copied_per_token")] public required double KvBytesCopiedPerToken { get; init; }

    [JsonPropertyName("padding_fraction")] public required double PaddingFraction { get; init; }

    [JsonPropertyName("preemptions")] public required long Preemptions { get; init; }

    /// <summary>Continuous: the running batch's size, sampled every 10 ms over the window (a time average).</summary>
    [JsonPropertyName("mean_running_sequences")] public required double MeanRunningSequences { get; init; }

    /// <summary>Continuous: tokens generated per step (the rows that sampled a token), the step-weighted batch.</summary>
    [JsonPropertyName("tokens_per_step")] public required double TokensPerStep { get; init; }

    [JsonPropertyName("schedules")] public required IReadOnlyList<ScheduleFigures> Schedules { get; init; }

    /// <summary>The OpenAI streaming endpoint against the SDK on one silo.</summary>
    [JsonPropertyName("openai_streaming")] public required OpenAiStreamingFigures OpenAiStreaming { get; init; }

    /// <summary>The OpenAI streaming endpoint's tokens/s over the SDK's at the same callers (target at least 0.85).</summary>
    [JsonPropertyName("openai_over_sdk_tokens_per_second")] public double OpenAiOverSdkTokensPerSecond => OpenAiStreaming.OpenAiOverSdkTokensPerSecond;

    /// <summary>The model's cost per token outside any schedule, and the ceiling it puts on continuous ÷ sequential.</summary>
    [JsonPropertyName("model_costs")] public required CostFigures ModelCosts { get; init; }

    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("callers")] public required int Callers { get; init; }

    [JsonPropertyName("cores")] public required int Cores { get; init; }

    [JsonPropertyName("os")] public required string OperatingSystem { get; init; }

    [JsonPropertyName("architecture")] public required string Architecture { get; init; }

    [JsonPropertyName("runtime")] public required string Runtime { get; init; }

    /// <summary>ONNX Runtime intra-op threads as the silo would open the session (0: one per core).</summary>
    [JsonPropertyName("intra_op_threads")] public required int IntraOpThreads { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }

    [JsonPropertyName("warmup_seconds")] public required double WarmupSeconds { get; init; }

    private static double Ratio(double a, double b) => b > 0 ? Math.Round(a / b, 3) : 0;
}

/// <summary>One schedule's figures over its measured window.</summary>
public sealed record ScheduleFigures
{
    [JsonPropertyName("schedule")] public required string Schedule { get; init; }

    /// <summary>Tokens the callers received inside the window, per second.</summary>
    [JsonPropertyName("tokens_per_s")] public required double TokensPerSecond { get; init; }

    /// <summary>Requests whose last token arrived inside the window.</summary>
    [JsonPropertyName("requests_completed")] public required long RequestsCompleted { get; init; }

    /// <summary>Requests that ended with an error (e.g. refused after waiting max_wait for a place).</summary>
    [JsonPropertyName("requests_failed")] public required long RequestsFailed { get; init; }

    [JsonPropertyName("ttft_p50_ms")] public required double TtftP50Milliseconds { get; init; }

    [JsonPropertyName("ttft_p99_ms")] public required double TtftP99Milliseconds { get; init; }

    [JsonPropertyName("itl_p50_ms")] public required double ItlP50Milliseconds { get; init; }

    [JsonPropertyName("itl_p99_ms")] public required double ItlP99Milliseconds { get; init; }

    [JsonPropertyName("step_overhead_fraction")] public required double StepOverheadFraction { get; init; }

    [JsonPropertyName("kv_bytes_copied_per_token")] public required double KvBytesCopiedPerToken { get; init; }

    [JsonPropertyName("padding_fraction")] public required double PaddingFraction { get; init; }

    [JsonPropertyName("preemptions")] public required long Preemptions { get; init; }

    [JsonPropertyName("mean_running_sequences")] public required double MeanRunningSequences { get; init; }

    [JsonPropertyName("tokens_per_step")] public required double TokensPerStep { get; init; }

    /// <summary>Tokens fed to the model per step (prefill chunks and decode tokens).</summary>
    [JsonPropertyName("fed_tokens_per_step")] public required double FedTokensPerStep { get; init; }

    [JsonPropertyName("steps")] public required long Steps { get; init; }

    [JsonPropertyName("mean_step_ms")] public required double MeanStepMilliseconds { get; init; }

    /// <summary>Where a step's time went, in milliseconds per step.</summary>
    [JsonPropertyName("step_breakdown_ms")] public required StepBreakdown StepBreakdown { get; init; }
}

/// <summary>
/// A step's mean time split by where it was spent: <see cref="Engine"/> (the engine's own work before and after
/// the pass: scheduling, building rows, sampling, streaming), <see cref="HopToDevice"/> and <see cref="HopBack"/>
/// (queueing onto the device thread and resuming the step loop), <see cref="RunnerOutsideOrt"/> (the runner's
/// cache gathering, input building, logits copy and cache compaction) and <see cref="Ort"/> (ONNX Runtime's run).
/// </summary>
public sealed record StepBreakdown(
    [property: JsonPropertyName("engine")] double Engine,
    [property: JsonPropertyName("hop_to_device")] double HopToDevice,
    [property: JsonPropertyName("runner_outside_ort")] double RunnerOutsideOrt,
    [property: JsonPropertyName("hop_back")] double HopBack,
    [property: JsonPropertyName("ort")] double Ort);
