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

    /// <summary>
    /// From a SIGKILL of one of three silo processes under load to the send time of the last failed request before
    /// 3 s of unbroken successes; null if that did not come within 20 s of the kill.
    /// </summary>
    [JsonPropertyName("recovery_seconds")] public required double? RecoverySeconds { get; init; }

    /// <summary>The silo-kill run in detail (<see cref="SiloKillRecovery"/>).</summary>
    [JsonPropertyName("silo_kill")] public required SiloKillResults SiloKill { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
}

/// <summary>What a SIGKILL of one of three silos under closed-loop load did (<see cref="SiloKillRecovery"/>).</summary>
public sealed record SiloKillResults
{
    [JsonPropertyName("sdk_callers")] public required int SdkCallers { get; init; }

    [JsonPropertyName("edge_callers")] public required int EdgeCallers { get; init; }

    /// <summary>Successful requests per second over the 5 s before the kill (three silos).</summary>
    [JsonPropertyName("pre_kill_throughput_per_second")] public required double PreKillThroughput { get; init; }

    /// <summary>The pre-kill throughput times the surviving share of the devices (2 of 3 identical ones).</summary>
    [JsonPropertyName("surviving_capacity_per_second")] public required double SurvivingCapacity { get; init; }

    /// <summary>What the two surviving simulated devices can do (batches of 4 in 100 ms each); the CPUs may allow less.</summary>
    [JsonPropertyName("surviving_device_capacity_per_second")] public required double SurvivingDeviceCapacity { get; init; }

    /// <summary>The machine's 1-minute load average at the end of the run (2 cores, shared).</summary>
    [JsonPropertyName("load_average")] public double? LoadAverage { get; init; }

    /// <summary>Mean successful requests per second 10 to 20 s after the kill.</summary>
    [JsonPropertyName("survivors_throughput_per_second")] public required double SurvivorsThroughput { get; init; }

    /// <summary>From the kill to the end of the first 1 s window that starts three in a row at 90 % of the surviving capacity or more; null if none.</summary>
    [JsonPropertyName("throughput_recovery_seconds")] public required int? ThroughputRecoverySeconds { get; init; }

    /// <summary>Successful requests in each 1 s window after the kill.</summary>
    [JsonPropertyName("window_throughput")] public required double[] WindowThroughput { get; init; }

    /// <summary>The model's replicas on the load board at the end of the run: key, silo, device, capacity, queued requests.</summary>
    [JsonPropertyName("replicas_after_kill")] public string[] ReplicasAfterKill { get; init; } = [];

    /// <summary>From the kill until the cluster's membership lists the silo as dead; null if not within 60 s.</summary>
    [JsonPropertyName("dead_declared_seconds")] public required double? DeadDeclaredSeconds { get; init; }

    /// <summary>As <see cref="ReliabilityResults.RecoverySeconds"/>.</summary>
    [JsonPropertyName("recovery_seconds")] public required double? RecoverySeconds { get; init; }

    /// <summary>SDK requests in flight at the kill or sent after it.</summary>
    [JsonPropertyName("sdk")] public required SiloKillCalls Sdk { get; init; }

    /// <summary>gRPC edge requests in flight at the kill or sent after it.</summary>
    [JsonPropertyName("edge")] public required SiloKillCalls Edge { get; init; }

    /// <summary>Successful executions by the silos' success counters (the killed silo's as read just before the kill).</summary>
    [JsonPropertyName("executed")] public required long Executed { get; init; }

    /// <summary>Successful answers the callers got over the whole run.</summary>
    [JsonPropertyName("answered")] public required long Answered { get; init; }

    /// <summary>
    /// Answers with another request's id, plus executions beyond the answers and the requests that ended in an error
    /// that does not say they never ran (each of which may have run once).
    /// </summary>
    [JsonPropertyName("duplicated")] public required int Duplicated { get; init; }
}

/// <summary>The outcomes of one caller path's requests.</summary>
public sealed record SiloKillCalls
{
    [JsonPropertyName("calls")] public required int Calls { get; init; }

    [JsonPropertyName("succeeded")] public required int Succeeded { get; init; }

    /// <summary>Failed with an error that says the request never ran.</summary>
    [JsonPropertyName("failed_retriable")] public required int FailedRetriable { get; init; }

    /// <summary>Failed with an error that does not say so (it may have run).</summary>
    [JsonPropertyName("failed_final")] public required int FailedFinal { get; init; }

    /// <summary>No answer within 40 s.</summary>
    [JsonPropertyName("lost")] public required int Lost { get; init; }

    [JsonPropertyName("wrong_id")] public required int WrongId { get; init; }

    /// <summary>Failures by exception type or gRPC status.</summary>
    [JsonPropertyName("errors")] public required Dictionary<string, int> Errors { get; init; }
}
