using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The <c>edge</c> scenario's figures: the silo's paths, the peer's (<see cref="PeerServer"/>) and their ratios.</summary>
public sealed record EdgeResults
{
    [JsonPropertyName("grpc_samples_per_s")] public required double GrpcSamplesPerSecond { get; init; }

    [JsonPropertyName("sdk_samples_per_s")] public required double SdkSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_over_sdk")] public double GrpcOverSdk => Ratio(GrpcSamplesPerSecond, SdkSamplesPerSecond);

    [JsonPropertyName("grpc_8_connections_samples_per_s")] public required double GrpcSpreadSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_8_connections_over_sdk")] public double GrpcSpreadOverSdk => Ratio(GrpcSpreadSamplesPerSecond, SdkSamplesPerSecond);

    [JsonPropertyName("grpc_streaming_samples_per_s")] public required double GrpcStreamingSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_streaming_over_sdk")] public double GrpcStreamingOverSdk => Ratio(GrpcStreamingSamplesPerSecond, SdkSamplesPerSecond);

    /// <summary>The peer's throughput on the three gRPC paths.</summary>
    [JsonPropertyName("peer_samples_per_s")] public required EdgePathFigures PeerSamplesPerSecond { get; init; }

    [JsonPropertyName("grpc_over_peer")] public double GrpcOverPeer => Ratio(GrpcSamplesPerSecond, PeerSamplesPerSecond.Grpc);

    [JsonPropertyName("grpc_8_connections_over_peer")] public double GrpcSpreadOverPeer => Ratio(GrpcSpreadSamplesPerSecond, PeerSamplesPerSecond.GrpcSpread);

    [JsonPropertyName("grpc_streaming_over_peer")] public double GrpcStreamingOverPeer =>
        Ratio(GrpcStreamingSamplesPerSecond, PeerSamplesPerSecond.GrpcStreaming);

    [JsonPropertyName("grpc_p50_ms")] public required double GrpcP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_p99_ms")] public required double GrpcP99Milliseconds { get; init; }

    [JsonPropertyName("peer_p50_ms")] public required double PeerP50Milliseconds { get; init; }

    [JsonPropertyName("sdk_p50_ms")] public required double SdkP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_concurrency1_p50_us")] public required double GrpcConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("sdk_concurrency1_p50_us")] public required double SdkConcurrency1P50Microseconds { get; init; }

    [JsonPropertyName("grpc_overhead_p50_us")] public double GrpcOverheadP50Microseconds => GrpcConcurrency1P50Microseconds - SdkConcurrency1P50Microseconds;

    /// <summary>The median of the model's batch-1 run in the benchmark's own session, nothing around it.</summary>
    [JsonPropertyName("raw_batch1_p50_us")] public required double RawBatch1P50Microseconds { get; init; }

    /// <summary>What the SDK and the silo add to a lone caller's request: its median minus the raw batch-1 run's.</summary>
    [JsonPropertyName("sdk_overhead_p50_us")] public double SdkOverheadP50Microseconds => SdkConcurrency1P50Microseconds - RawBatch1P50Microseconds;

    /// <summary>
    /// A lone caller's empty grain call to the same replica (a status read answered at once, no device): the round trip through Orleans'
    /// client, the gateway and the replica's activation that every SDK request makes too.
    /// </summary>
    [JsonPropertyName("grain_call_p50_us")] public required double GrainCallP50Microseconds { get; init; }

    /// <summary>What the SDK overhead adds beyond that round trip: routing, validation and the queue, the tensors, and the run's own cost.</summary>
    [JsonPropertyName("sdk_overhead_beyond_grain_call_p50_us")] public double SdkOverheadBeyondGrainCallP50Microseconds =>
        SdkOverheadP50Microseconds - GrainCallP50Microseconds;

    /// <summary>
    /// The lone SDK caller's batch-1 runs in the silo, mean (Triton's compute_infer): a run between requests, where the raw run is one
    /// of a tight loop.
    /// </summary>
    [JsonPropertyName("sdk_concurrency1_silo_run_us")] public required double SdkConcurrency1SiloRunMicroseconds { get; init; }

    /// <summary>The lone SDK caller's requests in the silo, mean: from arrival at the replica to its answer (Triton's request success).</summary>
    [JsonPropertyName("sdk_concurrency1_in_silo_us")] public required double SdkConcurrency1InSiloMicroseconds { get; init; }

    /// <summary>How much longer a batch-1 run between requests takes in the silo than the raw run in a tight loop.</summary>
    [JsonPropertyName("sdk_run_beyond_raw_us")] public double SdkRunBeyondRawMicroseconds =>
        Math.Round(SdkConcurrency1SiloRunMicroseconds - RawBatch1P50Microseconds, 1);

    /// <summary>
    /// The lone SDK caller's median less its mean time in the silo: the SDK, Orleans' messaging both ways and the gateway's dispatch to
    /// the replica's activation.
    /// </summary>
    [JsonPropertyName("sdk_outside_silo_us")] public double SdkOutsideSiloMicroseconds =>
        Math.Round(SdkConcurrency1P50Microseconds - SdkConcurrency1InSiloMicroseconds, 1);

    /// <summary>A lone gRPC caller's median against the peer.</summary>
    [JsonPropertyName("peer_concurrency1_p50_us")] public required double PeerConcurrency1P50Microseconds { get; init; }

    /// <summary>The peer's batch-1 runs for its lone gRPC caller, mean: its run between requests.</summary>
    [JsonPropertyName("peer_concurrency1_run_us")] public required double PeerConcurrency1RunMicroseconds { get; init; }

    /// <summary>The silo's mean batch (samples per run) per path.</summary>
    [JsonPropertyName("silo_mean_batch")] public required EdgePathFigures SiloMeanBatch { get; init; }

    [JsonPropertyName("peer_mean_batch")] public required EdgePathFigures PeerMeanBatch { get; init; }

    /// <summary>
    /// The wall time of the silo's ONNX Runtime runs per sample under the load, per path: a run's time over its batch's samples. Above
    /// the peer's at like batches, the session's runs are slowed by what else runs in the process (threads taking its cores).
    /// </summary>
    [JsonPropertyName("silo_run_us_per_sample")] public required EdgePathFigures SiloRunMicroseconds { get; init; }

    [JsonPropertyName("peer_run_us_per_sample")] public required EdgePathFigures PeerRunMicroseconds { get; init; }

    /// <summary>The silo's run time per sample ÷ the peer's, per path.</summary>
    [JsonPropertyName("silo_run_over_peer")] public EdgePathFigures SiloRunOverPeer => SiloRunMicroseconds.Over(PeerRunMicroseconds);

    /// <summary>Context switches of the silo's threads per sample, per path (Linux; each is a thread put to sleep or preempted).</summary>
    [JsonPropertyName("silo_context_switches_per_sample")] public required EdgePathFigures SiloContextSwitches { get; init; }

    [JsonPropertyName("peer_context_switches_per_sample")] public required EdgePathFigures PeerContextSwitches { get; init; }

    /// <summary>The SDK path's silo CPU time per sample.</summary>
    [JsonPropertyName("sdk_silo_cpu_us_per_sample")] public required double SdkSiloCpuMicroseconds { get; init; }

    [JsonPropertyName("silo_cpu_us_per_sample")] public required EdgePathFigures SiloCpuMicroseconds { get; init; }

    [JsonPropertyName("peer_cpu_us_per_sample")] public required EdgePathFigures PeerCpuMicroseconds { get; init; }

    /// <summary>Silo CPU per sample ÷ the peer's, per path (target ≤ 1.1).</summary>
    [JsonPropertyName("silo_cpu_over_peer")] public EdgePathFigures SiloCpuOverPeer => SiloCpuMicroseconds.Over(PeerCpuMicroseconds);

    /// <summary>Bytes the silo's runtime allocated per sample on each gRPC path (its exact allocated bytes, read before and after each slice).</summary>
    [JsonPropertyName("silo_allocated_bytes_per_sample")] public required EdgePathFigures SiloAllocatedBytes { get; init; }

    /// <summary>Bytes the peer's runtime allocated per sample on each gRPC path: what ASP.NET Core gRPC and the generated messages cost alone.</summary>
    [JsonPropertyName("peer_allocated_bytes_per_sample")] public required EdgePathFigures PeerAllocatedBytes { get; init; }

    /// <summary>Silo allocation per sample ÷ the peer's, per path.</summary>
    [JsonPropertyName("silo_allocation_over_peer")] public EdgePathFigures SiloAllocationOverPeer => SiloAllocatedBytes.Over(PeerAllocatedBytes);

    /// <summary>The SDK path's silo allocation per sample.</summary>
    [JsonPropertyName("sdk_silo_allocated_bytes_per_sample")] public required double SdkSiloAllocatedBytes { get; init; }

    /// <summary>
    /// Slices, of every path and round, whose allocation reading dropped (the server GC gave a heap up meanwhile, which takes the heap's
    /// history out of the process's total) and is left out of the allocation means.
    /// </summary>
    [JsonPropertyName("allocation_readings_left_out")] public required int AllocationReadingsLeftOut { get; init; }

    /// <summary>One sample's input and output tensor bytes, the part of the allocation that is the data itself.</summary>
    [JsonPropertyName("tensor_bytes_per_sample")] public required int TensorBytes { get; init; }

    /// <summary>
    /// The silo's bytes per unary sample (one connection) by the code that allocated them, from the runtime's sampled allocation
    /// events (<see cref="AllocationProfile"/>); their sum is close to, not equal to, the counter's figure.
    /// </summary>
    [JsonPropertyName("silo_allocation_by_origin")] public required Dictionary<string, double> SiloAllocationByOrigin { get; init; }

    /// <summary>The peer's bytes per unary sample (one connection) by origin, as the silo's.</summary>
    [JsonPropertyName("peer_allocation_by_origin")] public required Dictionary<string, double> PeerAllocationByOrigin { get; init; }

    [JsonPropertyName("sdk_callers_cpu_us_per_sample")] public required double SdkCallersCpuMicroseconds { get; init; }

    [JsonPropertyName("grpc_callers_cpu_us_per_sample")] public required double GrpcCallersCpuMicroseconds { get; init; }

    [JsonPropertyName("cores")] public required int Cores { get; init; }

    /// <summary>The model's <c>intra_op_threads</c>, which the silo's, the peer's and the raw run's sessions all use (0: one per core).</summary>
    [JsonPropertyName("intra_op_threads")] public required int IntraOpThreads { get; init; }

    /// <summary>The gen0 budget the silo and the peer ran with: <c>DOTNET_GCgen0size</c>'s value, or <c>runtime</c> (<see cref="ServingRuntime"/>).</summary>
    [JsonPropertyName("server_gen0_budget")] public required string ServerGen0Budget { get; init; }

    /// <summary>The thread pool's spin limit the silo and the peer ran with (<see cref="ServingRuntime.SpinLimit"/>).</summary>
    [JsonPropertyName("server_spin_limit")] public required string ServerSpinLimit { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }

    /// <summary><paramref name="value"/> ÷ <paramref name="baseline"/>, as every ratio in the results is rounded.</summary>
    internal static double Ratio(double value, double baseline) => Math.Round(value / baseline, 4);
}

/// <summary>One figure for each of the three gRPC paths: unary on one connection, unary on 8, a stream per caller.</summary>
public sealed record EdgePathFigures
{
    [JsonPropertyName("grpc")] public required double Grpc { get; init; }

    [JsonPropertyName("grpc_8_connections")] public required double GrpcSpread { get; init; }

    [JsonPropertyName("grpc_streaming")] public required double GrpcStreaming { get; init; }

    /// <summary>These figures ÷ <paramref name="baseline"/>'s, path by path.</summary>
    public EdgePathFigures Over(EdgePathFigures baseline) => new()
    {
        Grpc = EdgeResults.Ratio(Grpc, baseline.Grpc),
        GrpcSpread = EdgeResults.Ratio(GrpcSpread, baseline.GrpcSpread),
        GrpcStreaming = EdgeResults.Ratio(GrpcStreaming, baseline.GrpcStreaming),
    };
}
