using Cluster.Silo.Configuration;

namespace Cluster.Silo.Edge;

/// <summary>Limits applied to every request before any tensor buffer is allocated.</summary>
/// <param name="MaxElementsPerTensor">Most elements one tensor may claim.</param>
/// <param name="MaxElementsPerRequest">Most elements all tensors of one request may claim together.</param>
/// <param name="MaxTextBodyBytes">Largest JSON body of the text routes (OpenAI's <c>/v1</c>, Triton's <c>generate</c>).</param>
/// <param name="MaxStreamRequestsInFlight">Most requests of one <c>ModelStreamInfer</c> call run or answered at once.</param>
public sealed record EdgeLimits(
    long MaxElementsPerTensor,
    long MaxElementsPerRequest,
    long MaxTextBodyBytes = EdgeSettings.DefaultMaxTextBodyBytes,
    int MaxStreamRequestsInFlight = EdgeSettings.DefaultMaxStreamRequestsInFlight);
