using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace Cluster.Client.Security;

/// <summary>
/// The StackExchange.Redis options of the cluster's Redis: its connection string, plus an ACL user, a password
/// and TLS given as separate settings (each wins over the same field in the connection string). With TLS, the
/// server's certificate must name the host connected to and chain to a root the machine trusts (a managed Redis)
/// or, when one is given, to the cluster CA (a Redis the cluster's own CA issued a certificate to).
/// </summary>
public static class RedisConnection
{
    /// <summary>
    /// Parses <paramref name="connectionString"/> and applies the separate settings; throws
    /// <see cref="ClusterTlsException"/> when TLS is on and <paramref name="caCertificatePath"/> cannot be read.
    /// </summary>
    public static ConfigurationOptions Options(
        string connectionString, string? user = null, string? password = null, bool tls = false, string? caCertificatePath = null)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        if (!string.IsNullOrEmpty(user))
        {
            options.User = user;
        }

        if (!string.IsNullOrEmpty(password))
        {
            options.Password = password;
        }

        options.Ssl |= tls;
        if (options.Ssl && !string.IsNullOrWhiteSpace(caCertificatePath))
        {
            var authority = ReadAuthority(caCertificatePath);
            options.CertificateValidation += (_, certificate, _, errors) => IsTrusted(certificate, errors, authority);
        }

        return options;
    }

    /// <summary>How the connection authenticates, for the log; never the password.</summary>
    public static string Describe(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var auth = (options.User, options.Password) switch
        {
            ({ Length: > 0 } user, _) => $"ACL user '{user}' with a password",
            (_, { Length: > 0 }) => "password",
            _ => "no authentication",
        };
        return options.Ssl ? auth + " over TLS" : auth + " without TLS";
    }

    /// <summary><paramref name="connectionString"/> without its password, for messages and logs.</summary>
    public static string Redact(string connectionString)
    {
        try
        {
            return ConfigurationOptions.Parse(connectionString).ToString(includePassword: false);
        }
        catch (ArgumentException)
        {
            return "(a connection string that does not parse)";
        }
    }

    /// <summary>Valid as it stands, or with a chain error only (the cluster CA is no machine root) when the chain ends at the cluster CA.</summary>
    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection authority) =>
        errors == SslPolicyErrors.None
        || (errors == SslPolicyErrors.RemoteCertificateChainErrors
            && certificate is X509Certificate2 server
            && ClusterCertificateTrust.IsIssuedBy(server, authority));

    private static X509Certificate2Collection ReadAuthority(string path)
    {
        var authority = new X509Certificate2Collection();
        try
        {
            authority.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ClusterTlsException($"The cluster CA '{path}' that Redis's certificate must chain to cannot be read: {e.Message}");
        }

        return authority.Count > 0
            ? authority
            : throw new ClusterTlsException($"The cluster CA '{path}' that Redis's certificate must chain to holds no PEM certificate.");
    }
}
