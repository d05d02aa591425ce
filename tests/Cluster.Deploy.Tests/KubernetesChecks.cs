using System.Globalization;
using Cluster.Silo.Hosting;

namespace Cluster.Deploy.Tests;

/// <summary>
/// Kubernetes manifests: silo containers (settings, ports, probes, scrape annotations, GPU requests,
/// shutdown timing), Services and disruption budgets selecting real pods, Secrets referenced, and the
/// kustomization's resources.
/// </summary>
public static class KubernetesChecks
{
    private static readonly string[] Workloads = ["Deployment", "StatefulSet", "DaemonSet"];

    public static void Check(DeployFiles files, string file, IReadOnlyList<YamlNode> documents, Problems problems)
    {
        var all = files.Files.Where(f => f.Key.StartsWith("kubernetes/", StringComparison.Ordinal) && f.Key != file)
            .SelectMany(f => SafeParse(f.Value)).Concat(documents).ToList();
        foreach (var document in documents)
        {
            var kind = document["kind"].Text;
            var where = $"{kind} {document["metadata"]["name"].Text}";
            if (kind == "Kustomization")
            {
                foreach (var resource in document["resources"].Items)
                {
                    if (!files.Files.ContainsKey("kubernetes/" + resource.Text))
                    {
                        problems.Add(file, $"{where}: {resource.Path}", $"'{resource.Text}' is not a file in deploy/kubernetes");
                    }
                }
            }
            else if (Workloads.Contains(kind))
            {
                CheckWorkload(files, file, where, document, all, problems);
            }
            else if (kind == "Service")
            {
                CheckService(file, where, document, all, problems);
            }
            else if (kind == "PodDisruptionBudget" && !SelectedPods(document["spec"]["selector"]["matchLabels"], all).Any())
            {
                problems.Add(file, $"{where}: spec.selector", "selects no pods of any workload");
            }
        }
    }

    private static void CheckWorkload(DeployFiles files, string file, string where, YamlNode workload, List<YamlNode> all, Problems problems)
    {
        var pod = workload["spec"]["template"];
        var podSpec = pod["spec"];
        foreach (var container in podSpec["containers"].Items)
        {
            var at = $"{where}: {container.Path}";
            if (RedisChecks.IsRedis(container["image"].Text))
            {
                RedisChecks.Check(file, at, container["args"], $"{where}: {container["args"].Path}",
                    container["volumeMounts"].Items.Select(m => m["mountPath"].Text), problems);
                ClusterSecurityChecks.CheckRedis(container["args"], file, $"{where}: {container["args"].Path}", problems);
                continue;
            }

            if (files.DockerfileForImage(container["image"].Text ?? "", problems, file, at) is not { } image)
            {
                continue;
            }

            var command = container["command"];
            if (command.Exists && !command.Items.Select(i => i.Text).SequenceEqual(image.Model.Entrypoint))
            {
                problems.Add(file, $"{where}: {command.Path}", $"differs from the ENTRYPOINT of deploy/{image.File}");
            }

            if (!SiloContainer.IsSilo(image.Model))
            {
                continue;
            }

            foreach (var reference in container["env"].Items.Select(e => e["valueFrom"]["secretKeyRef"]).Where(r => r.Exists))
            {
                if (!all.Any(d => d["kind"].Text == "Secret" && d["metadata"]["name"].Text == reference["name"].Text
                    && (d["stringData"][reference["key"].Text!].Exists || d["data"][reference["key"].Text!].Exists)))
                {
                    problems.Add(file, $"{where}: {reference.Path}", $"no Secret '{reference["name"].Text}' with key '{reference["key"].Text}'");
                }
            }

            var variables = container["env"].Items.Select(e => (e["name"].Text!, e["value"].Text, $"{where}: {e.Path}"));
            var silo = SiloContainer.From(image.Model, variables, file, problems);
            ClusterSecurityChecks.CheckSilo(silo, variables.Select(v => (v.Item1, v.Item2)), file, $"{where}: {container["env"].Path}", problems);
            SiloContainer.CheckArguments(container["args"], $"{file}", problems);
            var ports = container["ports"].Items.ToDictionary(p => p["name"].Text ?? p.Path, p =>
                int.Parse(p["containerPort"].Text!, CultureInfo.InvariantCulture));
            foreach (var (role, port) in silo.Ports)
            {
                if (!ports.TryGetValue(role, out var declared) || declared != port)
                {
                    problems.Add(file, $"{where}: {container["ports"].Path}", $"needs a port named '{role}' with containerPort {port}");
                }
            }

            foreach (var (probe, path) in new[] { ("readinessProbe", "/v2/health/ready"), ("livenessProbe", "/v2/health/live") })
            {
                var httpGet = container[probe]["httpGet"];
                var port = httpGet["port"].Text ?? "";
                var number = int.TryParse(port, out var n) ? n : ports.GetValueOrDefault(port);
                silo.CheckHealthPath(httpGet["path"].Text ?? "(none)", number, file, $"{where}: {httpGet.Path}", problems, path);
            }

            var annotations = pod["metadata"]["annotations"];
            foreach (var (key, expected) in new[] { ("prometheus.io/scrape", "true"),
                ("prometheus.io/port", silo.Ports["metrics"].ToString(CultureInfo.InvariantCulture)), ("prometheus.io/path", SiloSchema.MetricsPath) })
            {
                if (annotations[key].Text != expected)
                {
                    problems.Add(file, $"{where}: {annotations.Path}.{key}", $"'{annotations[key].Text}' should be '{expected}'");
                }
            }

            CheckGpu(file, where, podSpec, container, silo, problems);
            CheckShutdown(file, where, podSpec, container, problems);
        }
    }

    private static void CheckGpu(string file, string where, YamlNode podSpec, YamlNode container, SiloContainer silo, Problems problems)
    {
        var usesCuda = !string.Equals(silo.Settings.Devices.Cuda, "none", StringComparison.OrdinalIgnoreCase);
        var gpus = container["resources"]["limits"]["nvidia.com/gpu"];
        if (usesCuda && (!gpus.Exists || !podSpec["tolerations"].Items.Any(t => t["key"].Text == "nvidia.com/gpu") || !podSpec["nodeSelector"].Entries.Any()))
        {
            problems.Add(file, $"{where}: {container.Path}",
                "a CUDA silo needs an nvidia.com/gpu limit, a nodeSelector for its pool and a toleration of nvidia.com/gpu");
        }

        if (!usesCuda && gpus.Exists)
        {
            problems.Add(file, $"{where}: {gpus.Path}", $"the silo's devices are Cuda={silo.Settings.Devices.Cuda}, so it would never use the GPU it holds");
        }
    }

    private static void CheckShutdown(string file, string where, YamlNode podSpec, YamlNode container, Problems problems)
    {
        var sleep = container["lifecycle"]["preStop"]["exec"]["command"].Items.Select(i => i.Text).ToList() is ["sleep", var seconds]
            ? int.Parse(seconds!, CultureInfo.InvariantCulture)
            : 0;
        var grace = int.Parse(podSpec["terminationGracePeriodSeconds"].Text ?? "30", CultureInfo.InvariantCulture);
        var needed = sleep + (int)ClusterHost.ShutdownTimeout.TotalSeconds;
        if (grace <= needed)
        {
            problems.Add(
                file, $"{where}: {podSpec.Path}.terminationGracePeriodSeconds", $"{grace} s does not cover the preStop sleep ({sleep} s) and the silo's " +
                    $"shutdown ({ClusterHost.ShutdownTimeout.TotalSeconds} s)");
        }
    }

    private static void CheckService(string file, string where, YamlNode service, List<YamlNode> all, Problems problems)
    {
        var pods = SelectedPods(service["spec"]["selector"], all).ToList();
        if (pods.Count == 0)
        {
            problems.Add(file, $"{where}: spec.selector", "selects no pods of any workload");
        }

        foreach (var port in service["spec"]["ports"].Items)
        {
            var target = port["targetPort"].Text ?? port["port"].Text!;
            foreach (var podSpec in pods)
            {
                var declared = podSpec["containers"].Items.SelectMany(c => c["ports"].Items)
                    .FirstOrDefault(p => p["name"].Text == target || p["containerPort"].Text == target);
                if (declared is null)
                {
                    problems.Add(file, $"{where}: {port.Path}.targetPort", $"'{target}' is not a container port of the pods it selects");
                }
                else if (declared["containerPort"].Text != port["port"].Text)
                {
                    problems.Add(
                        file, $"{where}: {port.Path}.port", $"{port["port"].Text} differs from the container's {declared["containerPort"].Text}; keep the " +
                            "well-known port");
                }
            }
        }
    }

    /// <summary>The pod specs of every workload whose pod labels include all of <paramref name="selector"/>.</summary>
    private static IEnumerable<YamlNode> SelectedPods(YamlNode selector, List<YamlNode> all) =>
        all.Where(d => Workloads.Contains(d["kind"].Text))
            .Select(d => d["spec"]["template"])
            .Where(t => selector.Entries.Any() && selector.Entries.All(s => t["metadata"]["labels"][s.Key].Text == s.Value.Text))
            .Select(t => t["spec"]);

    private static IReadOnlyList<YamlNode> SafeParse(string text)
    {
        try
        {
            return YamlNode.ParseDocuments(text);
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return [];
        }
    }
}
