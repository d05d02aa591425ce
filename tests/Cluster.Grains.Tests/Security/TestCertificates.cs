using System.Net;
using Cluster.Client.Security;
using Cluster.Tests.Shared;

namespace Cluster.Grains.Tests.Security;

/// <summary>
/// A cluster CA with node certificates for two silos and a client, and a second CA (a stranger's) with a
/// client certificate of its own, as PEM files in a temporary folder made by <see cref="ClusterCertificates"/>.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string folder) => Folder = folder;

    /// <summary>The folder with <c>ca.crt</c>, <c>ca.key</c> and each node's <c>name.crt</c>/<c>name.key</c>; <c>other/</c> holds the stranger's CA and
    /// nodes.</summary>
    public string Folder { get; }

    /// <summary>Makes the cluster CA with <paramref name="nodes"/>, and the stranger's CA with a <c>client</c>.</summary>
    public static TestCertificates Create(params string[] nodes)
    {
        var certificates = new TestCertificates(Directory.CreateTempSubdirectory("cluster-certs-").FullName);
        Issue(certificates.Folder, nodes);
        Issue(Path.Combine(certificates.Folder, "other"), ["client"]);
        return certificates;
    }

    /// <summary>Mutual TLS settings for a node of the cluster CA.</summary>
    public ClusterTlsOptions Node(string name) => Options(Folder, name);

    /// <summary>Mutual TLS settings for a client whose certificate the stranger's CA issued (it trusts the cluster CA).</summary>
    public ClusterTlsOptions Stranger()
    {
        var options = Options(Path.Combine(Folder, "other"), "client");
        options.CaCertificatePath = Path.Combine(Folder, ClusterCertificates.CaCertificateFile);
        return options;
    }

    /// <summary>A silo's <c>Cluster:Tls</c> settings for node <paramref name="name"/>.</summary>
    public Dictionary<string, string?> SiloSettings(string name)
    {
        var node = Node(name);
        return new()
        {
            ["Cluster:Tls:CaCertificatePath"] = node.CaCertificatePath,
            ["Cluster:Tls:CertificatePath"] = node.CertificatePath,
            ["Cluster:Tls:KeyPath"] = node.KeyPath,
        };
    }

    /// <summary>A TLS Redis's certificate for 127.0.0.1, issued by the cluster CA (made on first call).</summary>
    public RedisTlsFiles RedisServer()
    {
        if (!File.Exists(Path.Combine(Folder, "redis.crt")))
        {
            using var authority = ClusterCertificates.ReadAuthority(Folder);
            using var certificate = ClusterCertificates.IssueNode(authority, "redis", [], [IPAddress.Loopback], TimeSpan.FromDays(1));
            ClusterCertificates.WritePem(certificate, Folder, "redis");
        }

        return new(Path.Combine(Folder, "redis.crt"), Path.Combine(Folder, "redis.key"), Path.Combine(Folder, ClusterCertificates.CaCertificateFile));
    }

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private static void Issue(string folder, string[] nodes)
    {
        using var authority = ClusterCertificates.CreateAuthority("test-ca-" + Path.GetFileName(folder), TimeSpan.FromDays(1));
        ClusterCertificates.WritePem(authority, folder, "ca");
        foreach (var node in nodes)
        {
            using var certificate = ClusterCertificates.IssueNode(authority, node, [], [], TimeSpan.FromDays(1));
            ClusterCertificates.WritePem(certificate, folder, node);
        }
    }

    private static ClusterTlsOptions Options(string folder, string name) => new()
    {
        CaCertificatePath = Path.Combine(folder, ClusterCertificates.CaCertificateFile),
        CertificatePath = Path.Combine(folder, name + ".crt"),
        KeyPath = Path.Combine(folder, name + ".key"),
    };
}
