namespace Cluster.Deploy.Tests;

/// <summary>Dockerfiles: a non-root user and an exec-form entrypoint; for the silo, its settings, ports and health check.</summary>
public static class DockerfileChecks
{
    public static void Check(string file, DockerfileModel dockerfile, Problems problems)
    {
        if (dockerfile.Entrypoint is not ["dotnet", var dll] || !dll.EndsWith(".dll", StringComparison.Ordinal))
        {
            problems.Add(file, "ENTRYPOINT", "should be the exec form [\"dotnet\", \"<assembly>.dll\"]");
        }

        if (!SiloContainer.IsSilo(dockerfile))
        {
            return;
        }

        if (dockerfile.User is null or "root" or "0")
        {
            problems.Add(file, "USER", "the silo must not run as root");
        }

        var silo = SiloContainer.From(dockerfile, dockerfile.Environment.Select(e => (e.Key, (string?)e.Value, e.Key)), file, problems);
        var ports = silo.Ports.Values.ToHashSet();
        foreach (var missing in ports.Except(dockerfile.ExposedPorts).Order())
        {
            problems.Add(file, "EXPOSE", $"port {missing} ({silo.Ports.First(p => p.Value == missing).Key}) is served but not exposed");
        }

        foreach (var extra in dockerfile.ExposedPorts.Except(ports).Order())
        {
            problems.Add(file, "EXPOSE", $"port {extra} is exposed but the silo does not listen on it");
        }

        if (dockerfile.HealthCheckUrl is null)
        {
            problems.Add(file, "HEALTHCHECK", "missing, or names no http:// URL");
        }
        else
        {
            silo.CheckHealthUrl(dockerfile.HealthCheckUrl, file, "HEALTHCHECK", problems, "/v2/health/live");
        }
    }
}
