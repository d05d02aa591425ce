using System.Security.Cryptography.X509Certificates;

namespace Cluster.Client.Security;

/// <summary>A node's certificate (with its private key) and the cluster CA it and its peers chain to.</summary>
public sealed class ClusterCredentials(X509Certificate2 certificate, X509Certificate2Collection authority) : IDisposable
{
    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; } = certificate;

    /// <summary>The cluster CA: the only trusted root.</summary>
    public X509Certificate2Collection Authority { get; } = authority;

    /// <inheritdoc />
    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var ca in Authority)
        {
            ca.Dispose();
        }
    }
}
