using Cluster.Contracts.Models;

namespace Cluster.Inference.Replicas;

/// <summary>
/// The replicas active in this silo that take a request handed to them directly, without a grain call: a client
/// inside the silo (the edge) sends a request for one of them this way, skipping Orleans' messaging.
/// </summary>
public interface ILocalReplicas
{
    /// <summary>The entry point of replica <paramref name="key"/> when it is active here and taking requests; else null.</summary>
    Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>>? Find(string key);
}
