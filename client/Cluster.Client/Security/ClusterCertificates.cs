using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Client.Security;

/// <summary>
/// Makes a cluster CA and the node certificates it issues (ECDSA P-256, PEM files), with nothing but .NET:
/// <c>cluster certs ca</c> and <c>cluster certs node</c> call these.
/// </summary>
public static class ClusterCertificates
{
    /// <summary>The CA's certificate file in a CA folder.</summary>
    public const string CaCertificateFile = "ca.crt";

    /// <summary>The CA's private key file in a CA folder.</summary>
    public const string CaKeyFile = "ca.key";

    /// <summary>A new self-signed CA certificate, valid for <paramref name="validity"/>, that may issue node certificates only.</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(
            new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.Add(validity));
    }

    /// <summary>
    /// A node certificate named <paramref name="name"/> (also its first DNS name) for both sides of a TLS
    /// connection, issued by <paramref name="authority"/> (which must hold its private key).
    /// </summary>
    public static X509Certificate2 IssueNode(X509Certificate2 authority, string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> addresses,
        TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + name), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames.Prepend(name).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            names.AddDnsName(dns);
        }

        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(
            new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now.Add(validity) < authority.NotAfter ? now.Add(validity) : authority.NotAfter;
        using var issued = request.Create(authority, now.AddMinutes(-5), notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes <paramref name="certificate"/> to <c>name.crt</c> and its private key to <c>name.key</c> (readable by the owner only) in <paramref
    /// name="folder"/>.</summary>
    public static void WritePem(X509Certificate2 certificate, string folder, string name)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name + ".crt"), certificate.ExportCertificatePem() + "\n");
        var keyPath = Path.Combine(folder, name + ".key");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("The certificate has no ECDSA private key.", nameof(certificate));
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Reads the CA (certificate and private key) that <c>cluster certs ca</c> wrote to <paramref name="folder"/>.</summary>
    public static X509Certificate2 ReadAuthority(string folder) =>
        X509Certificate2.CreateFromPemFile(Path.Combine(folder, CaCertificateFile), Path.Combine(folder, CaKeyFile));
}
