namespace Cluster.Deploy.Tests;

/// <summary>Compose files: images built from deploy/docker, silo settings, published ports, health checks, commands.</summary>
public static class ComposeChecks
{
    private static readonly string[] CliCommands = ["models", "infer", "certs"];

    public static void Check(DeployFiles files, string file, YamlNode document, Problems problems)
    {
        var services = document["services"].Entries.ToDictionary(e => e.Key, e => e.Value);
        if (services.Count == 0)
        {
            problems.Add(file, "services", "no services");
        }

        foreach (var (name, service) in services)
        {
            foreach (var (dependency, _) in service["depends_on"].Entries)
            {
                if (!services.ContainsKey(dependency))
                {
                    problems.Add(file, service["depends_on"].Path, $"'{dependency}' is not a service");
                }
            }

            if (RedisChecks.IsRedis(service["image"].Text))
            {
                if (RedisChecks.RunsServer(service["command"]))
                {
                    var mounts = service["volumes"].Items.Select(v => v.Text?.Split(':').ElementAtOrDefault(1));
                    RedisChecks.Check(file, service.Path, service["command"], service["command"].Path, mounts, problems);
                    ClusterSecurityChecks.CheckRedis(service["command"], file, service["command"].Path, problems);
                }

                continue;
            }

            if (Image(files, file, service, problems) is not { } image)
            {
                continue;
            }

            var entrypoint = service["entrypoint"];
            if (entrypoint.Exists && !entrypoint.Items.Select(i => i.Text).SequenceEqual(image.Model.Entrypoint))
            {
                problems.Add(file, entrypoint.Path, $"differs from the ENTRYPOINT of deploy/{image.File}");
            }

            if (SiloContainer.IsSilo(image.Model))
            {
                CheckSilo(file, service, image.Model, services.Keys, problems);
            }
            else if (service["command"].Items.FirstOrDefault()?.Text is { } command && !CliCommands.Contains(command))
            {
                problems.Add(file, service["command"].Path, $"'{command}' is not a command of the console ({string.Join(", ", CliCommands)})");
            }
        }
    }

    private static (string File, DockerfileModel Model)? Image(DeployFiles files, string file, YamlNode service, Problems problems)
    {
        var built = service["build"]["dockerfile"];
        if (built.Exists)
        {
            // Contexts are relative to deploy/compose; the repository root is "../..".
            var dockerfile = built.Text!.StartsWith("deploy/", StringComparison.Ordinal) ? built.Text["deploy/".Length..] : built.Text;
            if (service["build"]["context"].Text != "../.." || !files.Files.ContainsKey(dockerfile))
            {
                problems.Add(file,
                    built.Path, $"'{built.Text}' (context '{service["build"]["context"].Text}') is not a Dockerfile in deploy/docker built from the " +
                        "repository root '../..'");
                return null;
            }

            var image = service["image"].Text;
            if (image is not null && files.DockerfileForImage(image, problems, file, service["image"].Path) is { } named && named.File != dockerfile)
            {
                problems.Add(file, service["image"].Path, $"'{image}' is built from deploy/{named.File}, not {built.Text}");
            }

            return (dockerfile, DockerfileModel.Parse(files.Files[dockerfile]));
        }

        var pulled = service["image"];
        if (!pulled.Exists)
        {
            problems.Add(file, service.Path, "has neither image nor build");
            return null;
        }

        return files.DockerfileForImage(pulled.Text!, problems, file, pulled.Path);
    }

    private static void CheckSilo(string file, YamlNode service, DockerfileModel image, IEnumerable<string> services, Problems problems)
    {
        var environment = service["environment"];
        var variables = environment.Entries.Select(e => (e.Key, e.Value.Text, e.Value.Path))
            .Concat(environment.Items.Select(i => (i.Text!.Split('=')[0], (string?)i.Text.Split('=', 2).ElementAtOrDefault(1), i.Path)));
        var silo = SiloContainer.From(image, variables, file, problems);
        ClusterSecurityChecks.CheckSilo(silo, variables.Select(v => (v.Item1, v.Item2)), file, environment.Path, problems);

        if (silo.Settings.RedisConnectionString?.Split(',')[0].Split(':')[0] is { } redisHost && !services.Contains(redisHost))
        {
            problems.Add(file, environment["Cluster__RedisConnectionString"].Path, $"host '{redisHost}' is not a service of this file");
        }

        var served = silo.Ports.Values.ToHashSet();
        foreach (var mapping in service["ports"].Items)
        {
            var containerPort = int.Parse(mapping.Text!.Split(':')[^1].Split('/')[0], System.Globalization.CultureInfo.InvariantCulture);
            if (!served.Contains(containerPort))
            {
                problems.Add(file,
                    mapping.Path, $"container port {containerPort} is not one the silo listens on " +
                        $"({string.Join(", ", silo.Ports.Select(p => $"{p.Key} {p.Value}"))})");
            }
        }

        var test = service["healthcheck"]["test"];
        var url = test.Items.Select(i => i.Text).FirstOrDefault(t => t?.StartsWith("http", StringComparison.Ordinal) == true);
        if (url is null)
        {
            problems.Add(file, test.Path, "the silo's health check should fetch a REST health URL");
        }
        else
        {
            silo.CheckHealthUrl(new Uri(url), file, test.Path, problems);
        }

        SiloContainer.CheckArguments(service["command"], file, problems);
    }
}
