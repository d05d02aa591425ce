using Cluster.Cli;
using Cluster.Client.Security;

namespace Cluster.Grains.Tests.Security;

/// <summary>The <c>Cluster:Tls</c> settings name the file at fault; <c>cluster certs</c> makes a CA and node certificates that chain to it only.</summary>
public sealed class ClusterTlsSettingsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create("silo");

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void Validate_ClusterCaCertificate_HasNoProblem()
    {
        Assert.Empty(_certificates.Node("silo").Validate("Cluster:Tls"));
    }

    [Fact]
    public void Validate_CertificateFromAnotherCa_IsRefused()
    {
        var settings = _certificates.Node("silo");
        settings.CaCertificatePath = Path.Combine(_certificates.Folder, "other", ClusterCertificates.CaCertificateFile);

        var error = Assert.Single(settings.Validate("Cluster:Tls"));

        Assert.Contains("is not issued by the CA in Cluster:Tls:CaCertificatePath", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingCaOrFiles_NameTheSetting()
    {
        var noCa = _certificates.Node("silo");
        noCa.CaCertificatePath = null;
        var missingKey = _certificates.Node("silo");
        missingKey.KeyPath = Path.Combine(_certificates.Folder, "absent.key");
        var caWithoutCertificate = new ClusterTlsOptions { CaCertificatePath = _certificates.Node("silo").CaCertificatePath };

        Assert.StartsWith("Cluster:Tls:CaCertificatePath is required", Assert.Single(noCa.Validate("Cluster:Tls")), StringComparison.Ordinal);
        Assert.StartsWith("Cluster:Tls:CertificatePath '", Assert.Single(missingKey.Validate("Cluster:Tls")), StringComparison.Ordinal);
        Assert.StartsWith("Cluster:Tls:CertificatePath is required", Assert.Single(caWithoutCertificate.Validate("Cluster:Tls")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertsCommand_WritesACaAndANode_ThatChainsToItOnly_AndKeepsThemOnASecondRun()
    {
        var folder = Path.Combine(_certificates.Folder, "cli");
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, await ClusterCommandLine.RunAsync(["certs", "ca", "--out", folder], output, error));
        Assert.Equal(0,
            await ClusterCommandLine.RunAsync(["certs", "node", "--name", "silo-0", "--ca", folder, "--dns", "silo-0.cluster,silo-0.local", "--ip", "10.0.0.5"],
                output, error));
        var caBefore = await File.ReadAllTextAsync(Path.Combine(folder, "ca.crt"));
        Assert.Equal(0, await ClusterCommandLine.RunAsync(["certs", "ca", "--out", folder], output, error));

        Assert.Equal(caBefore, await File.ReadAllTextAsync(Path.Combine(folder, "ca.crt")));
        Assert.Contains("exists: kept", output.ToString(), StringComparison.Ordinal);
        var node = new ClusterTlsOptions
        {
            CaCertificatePath = Path.Combine(folder, "ca.crt"),
            CertificatePath = Path.Combine(folder, "silo-0.crt"),
            KeyPath = Path.Combine(folder, "silo-0.key"),
        };
        Assert.Empty(node.Validate("Cluster:Tls"));
        using var credentials = node.Load("Cluster:Tls");
        Assert.Equal("CN=silo-0", credentials.Certificate.Subject);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "silo-0.key")));
        }

        var otherCa = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        otherCa.ImportFromPemFile(Path.Combine(_certificates.Folder, "ca.crt"));
        Assert.False(ClusterCertificateTrust.IsIssuedBy(credentials.Certificate, otherCa));
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public async Task CertsCommand_WithoutItsOptions_IsAUsageError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, await ClusterCommandLine.RunAsync(["certs", "node", "--name", "silo-0"], output, error));
        Assert.Contains("certs node needs --ca", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(2,
            await ClusterCommandLine.RunAsync(["certs", "node", "--name", "silo-0", "--ca", Path.Combine(_certificates.Folder, "absent")], output, error));
        Assert.Contains("does not hold a readable ca.crt and ca.key", error.ToString(), StringComparison.Ordinal);
    }
}
