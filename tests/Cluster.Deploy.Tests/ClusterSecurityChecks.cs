namespace Cluster.Deploy.Tests;

/// <summary>
/// A silo clustering through Redis reaches beyond loopback, so its deployment must turn on mutual TLS on the
/// cluster ports (<c>Cluster:Tls</c>, not <c>Cluster:AllowInsecureClusterPorts</c>) and give Redis's password and
/// TLS; the Redis it uses must require the password and accept TLS connections only.
/// </summary>
public static class ClusterSecurityChecks
{
    private static readonly string[] TlsSettings = ["Cluster__Tls__CaCertificatePath", "Cluster__Tls__CertificatePath", "Cluster__Tls__KeyPath"];

    /// <summary>Checks a silo container's variables (<paramref name="variables"/>: names, with values null where they come from a Secret).</summary>
    public static void CheckSilo(SiloContainer silo, IEnumerable<(string Name, string? Value)> variables, string file, string where, Problems problems)
    {
        var names = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        CheckEdgeKeys(silo, names.Keys, file, where, problems);
        if (!silo.Settings.UsesRedis)
        {
            return;
        }

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

        if (!silo.Settings.RedisTls && silo.Settings.RedisConnectionString?.Contains("ssl=true", StringComparison.OrdinalIgnoreCase) != true)
        {
            problems.Add(file, where, "a silo clustering through Redis needs Cluster__RedisTls: \"true\" (or ssl=true in the connection string)");
        }
    }

    /// <summary>
    /// An edge listening beyond loopback must require API keys (<c>Cluster__Edge__ApiKeys__N__Key</c> or
    /// <c>Cluster__Edge__ApiKeysFile</c>); the silo refuses to start without them, and the check says so before a deployment.
    /// </summary>
    private static void CheckEdgeKeys(SiloContainer silo, IEnumerable<string> names, string file, string where, Problems problems)
    {
        var edge = silo.Settings.Edge;
        if (edge.IsLoopbackOnly)
        {
            return;
        }

        if (edge.AllowUnauthenticatedBeyondLoopback)
        {
            problems.Add(file, where, "Cluster__Edge__AllowUnauthenticatedBeyondLoopback opens the edge to anyone; set Cluster__Edge__ApiKeys instead");
        }
        else if (!names.Any(IsApiKey) && string.IsNullOrWhiteSpace(edge.ApiKeysFile))
        {
            problems.Add(file, where, "an edge listening beyond loopback needs Cluster__Edge__ApiKeys__0__Key (or Cluster__Edge__ApiKeysFile)");
        }
    }

    private static bool IsApiKey(string name) =>
        name.StartsWith("Cluster__Edge__ApiKeys__", StringComparison.Ordinal) && name.EndsWith("__Key", StringComparison.Ordinal);

    /// <summary>Checks that a Redis container's <paramref name="arguments"/> require a password and TLS.</summary>
    public static void CheckRedis(YamlNode arguments, string file, string argumentsAt, Problems problems)
    {
        var words = arguments.Items.Select(i => i.Text).ToList();
        var password = words.IndexOf("--requirepass");
        if (password < 0 || string.IsNullOrWhiteSpace(words.ElementAtOrDefault(password + 1)))
        {
            problems.Add(file, argumentsAt,
                "Redis must run with \"--requirepass\", \"<password>\": without it anyone who reaches it can rewrite the cluster's membership");
        }

        var plainPort = words.IndexOf("--port");
        if (words.IndexOf("--tls-port") < 0 || plainPort < 0 || words.ElementAtOrDefault(plainPort + 1) != "0")
        {
            problems.Add(file, argumentsAt, "Redis must run with \"--tls-port\" and \"--port\", \"0\": without TLS its password crosses the network in clear");
        }
    }
}
