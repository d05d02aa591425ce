using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;

namespace Cluster.Client;

/// <summary>How an <see cref="InferenceClient"/> reaches the cluster: Orleans grain calls or the gRPC edge.</summary>
internal interface IInferenceTransport
{
    ValueTask<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken);

    IAsyncEnumerable<GeneratedToken> GenerateAsync(ModelTarget target, GenerationRequest request, CancellationToken cancellationToken);

    Task<ModelTarget> ResolveAsync(string model, long? version);

    Task<ModelDescriptor[]> GetModelsAsync();

    Task<ModelStatistics> GetStatisticsAsync(ModelTarget target);

    Task<bool> IsReadyAsync(ModelTarget target);

    Task SendFeedbackAsync(string model, string requestId, bool accepted);
}
