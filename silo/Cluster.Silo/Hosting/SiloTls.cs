using Cluster.Client.Security;

namespace Cluster.Silo.Hosting;

/// <summary>
/// Mutual TLS on the silo's own ports (Microsoft.Orleans.Connections.Security): silo-to-silo connections in
/// both directions and clients' gateway connections. Each side presents its certificate and accepts the
/// other's only when it chains to the cluster CA (<see cref="ClusterTls"/>).
/// </summary>
public static class SiloTls
{
    /// <summary>Turns on mutual TLS when <paramref name="settings"/> name a certificate; the host disposes the loaded credentials.</summary>
    public static ISiloBuilder UseSiloTls(this ISiloBuilder silo, ClusterTlsOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.IsEnabled)
        {
            return silo;
        }

        var credentials = settings.Load("Cluster:Tls");
        silo.Services.AddSingleton(_ => credentials);
        return silo.UseTls(credentials.Certificate, tls => ClusterTls.Apply(credentials, tls));
    }
}
