namespace Cluster.Silo.Configuration;

/// <summary>Mutual TLS between silos: configuration section <c>Cluster:SiloTls</c>.</summary>
public sealed class SiloTlsSettings
{
    /// <summary>A PKCS#12 file with the silo's certificate and private key; when set, silo-to-silo connections use mutual TLS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate file's password.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (CertificatePath is not null && !File.Exists(CertificatePath))
        {
            yield return $"Cluster:SiloTls:CertificatePath '{CertificatePath}' does not exist.";
        }
    }
}
