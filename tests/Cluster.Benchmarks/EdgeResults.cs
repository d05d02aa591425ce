using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The <c>edge</c> scenario's figures.</summary>
public sealed record EdgeResults
{
    [JsonPropertyName("grpc_samples_per_s")] public required double GrpcSamplesPerSecond { get; init; }

    [JsonPropertyName("sdk_samples_per_s")] public required double SdkSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_over_sdk")] public double GrpcOverSdk => Math.Round(GrpcSamplesPerSecond / SdkSamplesPerSecond, 4);

    [JsonPropertyName("grpc_8_connections_samples_per_s")] public required double GrpcSpreadSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_8_connections_over_sdk")] public double GrpcSpreadOverSdk => Math.Round(GrpcSpreadSamplesPerSecond / SdkSamplesPerSecond, 4);

    [JsonPropertyName("grpc_streaming_samples_per_s")] public required double GrpcStreamingSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_streaming_over_sdk")] public double GrpcStreamingOverSdk => Math.Round(GrpcStreamingSamplesPerSecond / SdkSamplesPerSecond, 4);

    [JsonPropertyName("grpc_p50_ms")] public required double GrpcP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_p99_ms")] public required double GrpcP99Milliseconds { get; init; }

    [JsonPropertyName("sdk_p50_ms")] public required double SdkP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_concurrency1_p50_us")] public required double GrpcConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("sdk_concurrency1_p50_us")] public required double SdkConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("grpc_overhead_p50_us")] public double GrpcOverheadP50Microseconds => GrpcConcurrency1P50Microseconds - SdkConcurrency1P50Microseconds;

    [JsonPropertyName("sdk_silo_cpu_us_per_sample")] public required double SdkSiloCpuMicroseconds { get; init; }

    [JsonPropertyName("grpc_silo_cpu_us_per_sample")] public required double GrpcSiloCpuMicroseconds { get; init; }

    [JsonPropertyName("grpc_streaming_silo_cpu_us_per_sample")] public required double GrpcStreamingSiloCpuMicroseconds { get; init; }

    [JsonPropertyName("sdk_callers_cpu_us_per_sample")] public required double SdkCallersCpuMicroseconds { get; init; }

    [JsonPropertyName("grpc_callers_cpu_us_per_sample")] public required double GrpcCallersCpuMicroseconds { get; init; }

    [JsonPropertyName("cores")] public required int Cores { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
}
