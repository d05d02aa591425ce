namespace Cluster.Silo.Edge;

/// <summary>
/// The server as both edge protocols describe it (gRPC <c>ServerMetadata</c>, REST <c>GET /v2</c>): one name,
/// version and list of the Triton extensions the cluster serves, so the two surfaces never disagree.
/// </summary>
public static class ServerDescription
{
    /// <summary>The server's name.</summary>
    public const string Name = "cluster-inference";

    /// <summary>The server's version: the silo assembly's.</summary>
    public static string Version { get; } = typeof(ServerDescription).Assembly.GetName().Version?.ToString() ?? "1.0.0";

    /// <summary>
    /// The extensions served: the repository API (index, load, unload), the batcher's <c>priority</c> and
    /// <c>timeout</c> parameters, statistics, and the text generation routes.
    /// </summary>
    public static IReadOnlyList<string> Extensions { get; } = ["model_repository", "schedule_policy", "statistics", "generate"];
}
