using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Cluster.Client.Security;

/// <summary>
/// The Orleans TLS settings of a cluster node: present this node's certificate, require the peer's, and
/// accept it only when it chains to the cluster CA. Host names are not checked: a certificate the cluster CA
/// issued is a member of the cluster wherever it connects from.
/// </summary>
public static class ClusterTls
{
    /// <summary>Applies <paramref name="credentials"/> to Orleans' <paramref name="options"/>.</summary>
    public static void Apply(ClusterCredentials credentials, TlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(options);
        options.LocalCertificate = credentials.Certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.CheckCertificateRevocation = false;
        options.RemoteCertificateValidation = (remote, _, _) => ClusterCertificateTrust.IsIssuedBy(remote, credentials.Authority);
        var name = credentials.Certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = name;
    }
}
