using System.Text.Json.Serialization;

namespace Cluster.Benchmarks;

/// <summary>The <c>generation-prefix</c> scenario's figures: code completion on two replicas, prefix caching on and off.</summary>
public sealed record PrefixCachingResults
{
    /// <summary>Prompt tokens served from the replicas' prefix caches over prompt tokens looked up (caching on).</summary>
    [JsonPropertyName("prefix_cache_hit_rate")] public required double PrefixCacheHitRate { get; init; }

    /// <summary>Median time to first token of the requests after each session's first, caching on.</summary>
    [JsonPropertyName("ttft_p50_ms_prefix_cached")] public required double TtftP50MillisecondsCached { get; init; }

    /// <summary>The same requests' median time to first token, caching off.</summary>
    [JsonPropertyName("ttft_p50_ms_prefix_uncached")] public required double TtftP50MillisecondsUncached { get; init; }

    /// <summary>Cached over uncached median time to first token (target ≤ 0.3).</summary>
    [JsonPropertyName("ttft_cached_over_uncached")] public double TtftCachedOverUncached =>
        TtftP50MillisecondsUncached > 0 ? Math.Round(TtftP50MillisecondsCached / TtftP50MillisecondsUncached, 3) : 0;

    /// <summary>Share of the requests after each session's first that went to the replica holding their prefix (target ≥ 0.9).</summary>
    [JsonPropertyName("prefix_routing_hit_rate")] public required double PrefixRoutingHitRate { get; init; }

    /// <summary>Requests after each session's first that the router found a remembered start for and followed, caching on.</summary>
    [JsonPropertyName("requests_followed_prefix")] public required long RequestsFollowedPrefix { get; init; }

    /// <summary>Requests that failed (either run).</summary>
    [JsonPropertyName("requests_failed")] public required int RequestsFailed { get; init; }

    /// <summary>Wall time of each run, seconds: caching on, caching off.</summary>
    [JsonPropertyName("run_seconds")] public required double[] RunSeconds { get; init; }

    [JsonPropertyName("model")] public required string Model { get; init; }

    [JsonPropertyName("context_length")] public required int ContextLength { get; init; }

    [JsonPropertyName("sessions")] public int Sessions => CodeCompletionWorkload.Sessions;

    [JsonPropertyName("requests_per_session")] public int RequestsPerSession => CodeCompletionWorkload.RequestsPerSession;

    [JsonPropertyName("file_tokens")] public int FileTokens => CodeCompletionWorkload.FileTokens;

    [JsonPropertyName("tokens_per_keystroke")] public int TokensPerKeystroke => CodeCompletionWorkload.TokensPerKeystroke;

    [JsonPropertyName("replicas")] public required int Replicas { get; init; }

    [JsonPropertyName("cores")] public required int Cores { get; init; }
}
