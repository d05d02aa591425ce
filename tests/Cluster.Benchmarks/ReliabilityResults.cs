using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The <c>reliability</c> scenario's figures; <c>lost</c>, <c>duplicated</c> and <c>crashes</c> must be 0.</summary>
public sealed record ReliabilityResults
{
    [JsonPropertyName("sent")] public required int Sent { get; init; }

    [JsonPropertyName("succeeded")] public required int Succeeded { get; init; }

    /// <summary>Refused before running (queue full, no replica): safe to send again.</summary>
    [JsonPropertyName("failed_retriable")] public required int FailedRetriable { get; init; }

    [JsonPropertyName("failed_final")] public required int FailedFinal { get; init; }

    [JsonPropertyName("lost")] public required int Lost { get; init; }

    [JsonPropertyName("duplicated")] public required int Duplicated { get; init; }

    [JsonPropertyName("peak_rss_mb")] public required double PeakRssMb { get; init; }

    [JsonPropertyName("fuzz_cases")] public required int FuzzCases { get; init; }

    [JsonPropertyName("crashes")] public required int Crashes { get; init; }

    [JsonPropertyName("fuzz_internal_errors")] public required int FuzzInternalErrors { get; init; }

    [JsonPropertyName("fuzz_hangs")] public required int FuzzHangs { get; init; }

    [JsonPropertyName("fuzz_gc_heap_growth_mb")] public required double FuzzGcHeapGrowthMb { get; init; }

    /// <summary>From a SIGKILL of one of three silo processes under load until every request succeeds again; null if not within 90 s.</summary>
    [JsonPropertyName("recovery_seconds")] public required double? RecoverySeconds { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
}
