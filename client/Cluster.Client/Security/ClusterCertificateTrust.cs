using System.Security.Cryptography.X509Certificates;

namespace Cluster.Client.Security;

/// <summary>
/// Whether a certificate chains to the cluster CA, and to nothing else: the operating system's trusted roots
/// play no part, so a publicly issued certificate is refused. Revocation is not checked (the cluster CA
/// publishes no revocation list; replace a leaked node certificate by issuing a new CA).
/// </summary>
public static class ClusterCertificateTrust
{
    /// <summary>True when <paramref name="certificate"/> chains, without errors, to a root in <paramref name="authority"/>.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2Collection authority)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        try
        {
            return chain.Build(certificate);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }
}
