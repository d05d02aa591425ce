using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Cluster.Silo.Configuration;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Mutual TLS on silo-to-silo connections (Microsoft.Orleans.Connections.Security). Each silo presents the
/// configured certificate and accepts a peer whose certificate is the same one or chains to a trusted root.
/// Gateway connections stay as they are: clients inside the cluster's network use them, outside callers
/// use the edge, which has its own TLS.
/// </summary>
public static class SiloTls
{
    /// <summary>Turns on silo-to-silo TLS when <see cref="SiloTlsSettings.CertificatePath"/> is set.</summary>
    public static ISiloBuilder UseSiloTls(this ISiloBuilder silo, SiloTlsSettings settings)
    {
        if (settings.CertificatePath is not { } path)
        {
            return silo;
        }

        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, settings.CertificatePassword);
        var options = new TlsOptions
        {
            LocalCertificate = certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            RemoteCertificateValidation = (remote, _, errors) => errors == SslPolicyErrors.None || remote.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span),
            OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false),
        };
        return silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(options));
            connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(options));
        });
    }
}
