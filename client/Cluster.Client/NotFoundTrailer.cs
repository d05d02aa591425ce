namespace Cluster.Client;

/// <summary>How the gRPC edge tells a caller what a NOT_FOUND status did not find, when it is not the model.</summary>
public static class NotFoundTrailer
{
    /// <summary>The trailer naming what was not found; absent when it was the model.</summary>
    public const string Name = "cluster-not-found";

    /// <summary>Its value when a request id was not found (feedback on an answer no experiment arm gave).</summary>
    public const string Request = "request";
}
