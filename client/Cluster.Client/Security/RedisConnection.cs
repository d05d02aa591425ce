using StackExchange.Redis;

namespace Cluster.Client.Security;

/// <summary>
/// The StackExchange.Redis options of the cluster's Redis: its connection string, plus an ACL user, a password
/// and TLS given as separate settings (each wins over the same field in the connection string). With TLS, the
/// server's certificate must chain to the cluster CA when one is given, else to a root the machine trusts.
/// </summary>
public static class RedisConnection
{
    /// <summary>Parses <paramref name="connectionString"/> and applies the separate settings.</summary>
    public static ConfigurationOptions Options(string connectionString, string? user = null, string? password = null, bool tls = false,
        string? caCertificatePath = null)
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
            options.TrustIssuer(caCertificatePath);
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
}
