using System.Globalization;
using System.Text.Json;
using Cluster.Client.Protocol;
using DomainStatistics = Cluster.Contracts.Models.ModelStatistics;
using DomainDuration = Cluster.Contracts.Models.StatisticDuration;

namespace Cluster.Silo.Edge;

/// <summary>
/// Model statistics as both edge protocols report them (gRPC <c>ModelStatistics</c>, REST <c>GET /v2/models/.../stats</c>):
/// mapped once to the protocol's message, which gRPC sends as it is and REST writes as JSON with the protocol's field names,
/// so the two surfaces never disagree.
/// </summary>
public static class StatisticsReport
{
    /// <summary>
    /// How REST writes the message: the proto field names (<c>inference_count</c>, <c>batch_stats</c>, ...) with 64-bit counts
    /// as JSON numbers, as Triton's REST statistics are.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The protocol's statistics response for the versions' statistics.</summary>
    public static ModelStatisticsResponse Of(IEnumerable<DomainStatistics> versions)
    {
        var response = new ModelStatisticsResponse();
        response.ModelStats.Add(versions.Select(ToProtocol));
        return response;
    }

    private static ModelStatistics ToProtocol(DomainStatistics s)
    {
        var statistics = new ModelStatistics
        {
            Name = s.Model,
            Version = s.Version.ToString(CultureInfo.InvariantCulture),
            LastInference = (ulong)s.LastInferenceMs,
            InferenceCount = (ulong)s.InferenceCount,
            ExecutionCount = (ulong)s.ExecutionCount,
            InferenceStats = new InferStatistics
            {
                Success = Duration(s.Success),
                Fail = Duration(s.Fail),
                Queue = Duration(s.Queue),
                ComputeInput = Duration(s.ComputeInput),
                ComputeInfer = Duration(s.ComputeInfer),
                ComputeOutput = Duration(s.ComputeOutput),
                CacheHit = new StatisticDuration(),
                CacheMiss = new StatisticDuration(),
            },
        };
        statistics.BatchStats.Add(s.Batches.Select(b => new InferBatchStatistics
        {
            BatchSize = (ulong)b.BatchSize,
            ComputeInput = Duration(b.ComputeInput),
            ComputeInfer = Duration(b.ComputeInfer),
            ComputeOutput = Duration(b.ComputeOutput),
        }));
        return statistics;
    }

    private static StatisticDuration Duration(DomainDuration d) => new() { Count = (ulong)d.Count, Ns = (ulong)d.Nanoseconds };
}
