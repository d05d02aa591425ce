using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Client.Security;

/// <summary>
/// Mutual TLS on the cluster's own ports (silo-to-silo and client-to-gateway): the cluster CA every peer's
/// certificate must chain to, and this node's certificate with its private key. Off while
/// <see cref="CertificatePath"/> is unset.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary>The cluster CA certificate (PEM); the only root a peer's certificate may chain to.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>This node's certificate: a PEM file (its key in <see cref="KeyPath"/> or in the same file) or a PKCS#12 file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, when it is kept in its own file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 <see cref="CertificatePath"/>.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Whether a certificate is configured, which turns mutual TLS on.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Every problem with the settings, each naming its key under <paramref name="prefix"/> (e.g. <c>Cluster:Tls</c>); empty when valid or
    /// off.</summary>
    public IEnumerable<string> Validate(string prefix)
    {
        if (!IsEnabled)
        {
            if (!string.IsNullOrWhiteSpace(CaCertificatePath) || !string.IsNullOrWhiteSpace(KeyPath))
            {
                yield return $"{prefix}:CertificatePath is required when {prefix}:CaCertificatePath or {prefix}:KeyPath is set.";
            }

            yield break;
        }

        string? problem;
        try
        {
            using var credentials = Load(prefix);
            problem = ClusterCertificateTrust.IsIssuedBy(credentials.Certificate, credentials.Authority)
                ? null
                : $"{prefix}:CertificatePath '{CertificatePath}' is not issued by the CA in {prefix}:CaCertificatePath '{CaCertificatePath}'.";
        }
        catch (ClusterTlsException e)
        {
            problem = e.Message;
        }

        if (problem is not null)
        {
            yield return problem;
        }
    }

    /// <summary>Reads the CA and this node's certificate; throws <see cref="ClusterTlsException"/> naming the key at fault.</summary>
    public ClusterCredentials Load(string prefix)
    {
        if (string.IsNullOrWhiteSpace(CaCertificatePath))
        {
            throw new ClusterTlsException($"{prefix}:CaCertificatePath is required with {prefix}:CertificatePath: peers are trusted only when their " +
                "certificate chains to the cluster CA.");
        }

        var authority = new X509Certificate2Collection();
        Read(prefix + ":CaCertificatePath", CaCertificatePath, path => authority.ImportFromPemFile(path));
        if (authority.Count == 0)
        {
            throw new ClusterTlsException($"{prefix}:CaCertificatePath '{CaCertificatePath}' holds no PEM certificate.");
        }

        var certificate = Read(prefix + ":CertificatePath", CertificatePath!, LoadCertificate);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ClusterTlsException($"{prefix}:CertificatePath '{CertificatePath}' has no private key; set {prefix}:KeyPath to its PEM key file.");
        }

        return new ClusterCredentials(certificate, authority);
    }

    private X509Certificate2 LoadCertificate(string path)
    {
        if (!string.IsNullOrWhiteSpace(KeyPath))
        {
            return X509Certificate2.CreateFromPemFile(path, KeyPath);
        }

        return File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPemFile(path)
            : X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword);
    }

    private static T Read<T>(string key, string path, Func<string, T> read)
    {
        try
        {
            return read(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ClusterTlsException($"{key} '{path}' cannot be read: {e.Message}");
        }
    }

    private static void Read(string key, string path, Action<string> read) => Read(key, path, p =>
    {
        read(p);
        return true;
    });
}
