namespace Cluster.Deploy.Tests;

/// <summary>
/// A silo clustering through Redis reaches beyond loopback, so its deployment must turn on mutual TLS on the
/// cluster ports (<c>Cluster:Tls</c>, not <c>Cluster:AllowInsecureClusterPorts</c>) and give Redis's password;
/// the Redis it uses must require one.
/// </summary>
public static class ClusterSecurityChecks
{
    private static readonly string[] TlsSettings = ["Cluster__Tls__CaCertificatePath", "Cluster__Tls__CertificatePath", "Cluster__Tls__KeyPath"];

    /// <summary>Checks a silo container's variables (<paramref name="variables"/>: names, with values null where they come from a Secret).</summary>
    public static void CheckSilo(SiloContainer silo, IEnumerable<(string Name, string? Value)> variables, string file, string where, Problems problems)
    {
        if (!silo.Settings.UsesRedis)
        {
            return;
        }

        var names = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        foreach (var missing in TlsSettings.Where(s => !names.ContainsKey(s)))
        {
            problems.Add(file, where, $"a silo clustering through Redis needs {missing} (mutual TLS on the silo and gateway ports)");
        }

        if (silo.Settings.AllowInsecureClusterPorts)
        {
            problems.Add(file, where, "Cluster__AllowInsecureClusterPorts opens the silo and gateway ports without TLS; set Cluster__Tls__* instead");
        }

        if (!names.ContainsKey("Cluster__RedisPassword")
            && silo.Settings.RedisConnectionString?.Contains("password=", StringComparison.OrdinalIgnoreCase) != true)
        {
            problems.Add(file, where, "a silo clustering through Redis needs Cluster__RedisPassword (or password= in the connection string)");
        }
    }

    /// <summary>Checks that a Redis container's <paramref name="arguments"/> require a password.</summary>
    public static void CheckRedis(YamlNode arguments, string file, string argumentsAt, Problems problems)
    {
        var words = arguments.Items.Select(i => i.Text).ToList();
        var password = words.IndexOf("--requirepass");
        if (password < 0 || string.IsNullOrWhiteSpace(words.ElementAtOrDefault(password + 1)))
        {
            problems.Add(file, argumentsAt,
                "Redis must run with \"--requirepass\", \"<password>\": without it anyone who reaches it can rewrite the cluster's membership");
        }
    }
}
