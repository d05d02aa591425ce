namespace Cluster.Inference.Generation;

/// <summary>
/// vLLM's bucket bounds for its latency histograms (seconds), so dashboards built for vLLM read the same
/// quantiles from this cluster.
/// </summary>
public static class LatencyBuckets
{
    /// <summary>Bounds of <c>vllm:time_to_first_token_seconds</c>.</summary>
    public static readonly IReadOnlyList<double> TimeToFirstToken =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    /// <summary>Bounds of <c>vllm:inter_token_latency_seconds</c>.</summary>
    public static readonly IReadOnlyList<double> InterToken =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    /// <summary>Bounds of <c>vllm:e2e_request_latency_seconds</c>.</summary>
    public static readonly IReadOnlyList<double> EndToEnd =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
}
