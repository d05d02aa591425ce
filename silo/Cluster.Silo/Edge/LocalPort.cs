using System.Net;

namespace Cluster.Silo.Edge;

/// <summary>Endpoint metadata: the endpoint answers only on connections accepted on this local port (the Host header does not count).</summary>
/// <param name="Port">The local port of the listener the endpoint belongs to.</param>
public sealed record LocalPortMetadata(int Port);

/// <summary>Ties endpoints to the port of one listener; <see cref="EdgeGate"/> answers 404 for them on any other.</summary>
public static class LocalPortEndpoints
{
    /// <summary>Serves the endpoints of <paramref name="builder"/> on the port of <paramref name="address"/> only.</summary>
    public static TBuilder RequireLocalPort<TBuilder>(this TBuilder builder, string address)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new LocalPortMetadata(IPEndPoint.Parse(address).Port));
}
