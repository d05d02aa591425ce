using Cluster.Contracts.Models;

namespace Cluster.Client;

/// <summary>
/// Finds the entry point of replica <paramref name="key"/> when it is active in this process and taking requests;
/// null otherwise. A client inside a silo (the edge) hands such a request over directly, skipping Orleans' messaging.
/// </summary>
public delegate Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>>? LocalReplicaLookup(string key);
