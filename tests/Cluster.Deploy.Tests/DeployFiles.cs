using Cluster.Tests.Shared;

namespace Cluster.Deploy.Tests;

/// <summary>
/// The files under <c>deploy/</c> (by path relative to it, e.g. <c>kubernetes/silo-cpu.yaml</c>) and
/// the checks of each kind of file; every problem names the file and the offending key.
/// </summary>
public sealed class DeployFiles(IReadOnlyDictionary<string, string> files)
{
    public IReadOnlyDictionary<string, string> Files { get; } = files;

    /// <summary>The shipped files: YAML anywhere under deploy/, and the Dockerfiles.</summary>
    public static DeployFiles FromRepository()
    {
        var deploy = Path.Combine(RepositoryPaths.Root, "deploy");
        return new DeployFiles(Directory.EnumerateFiles(deploy, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".yaml" or ".yml" || Path.GetFileName(f).StartsWith("Dockerfile", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(deploy, f).Replace('\\', '/'), File.ReadAllText));
    }

    /// <summary>The same files with one text replaced in one of them (which must contain it).</summary>
    public DeployFiles With(string file, string oldText, string newText)
    {
        Assert.Contains(oldText, Files[file], StringComparison.Ordinal);
        var changed = Files.ToDictionary(f => f.Key, f => f.Value);
        changed[file] = changed[file].Replace(oldText, newText, StringComparison.Ordinal);
        return new DeployFiles(changed);
    }

    /// <summary>The Dockerfile that builds an image of this repository (<c>inference-cluster/silo:tag</c> → <c>docker/Dockerfile.silo</c>), or null for other
    /// images.</summary>
    public (string File, DockerfileModel Model)? DockerfileForImage(string image, Problems problems, string file, string where)
    {
        if (!image.StartsWith("inference-cluster/", StringComparison.Ordinal))
        {
            return null;
        }

        var name = image["inference-cluster/".Length..].Split(':')[0];
        var dockerfile = $"docker/Dockerfile.{name}";
        if (!Files.TryGetValue(dockerfile, out var text))
        {
            problems.Add(file, where, $"image '{image}' has no deploy/{dockerfile}");
            return null;
        }

        return (dockerfile, DockerfileModel.Parse(text));
    }

    /// <summary>Runs every check over every file.</summary>
    public Problems Check()
    {
        var problems = new Problems();
        foreach (var (file, text) in Files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (file.StartsWith("docker/", StringComparison.Ordinal))
            {
                DockerfileChecks.Check(file, DockerfileModel.Parse(text), problems);
                continue;
            }

            IReadOnlyList<YamlNode> documents;
            try
            {
                documents = YamlNode.ParseDocuments(text);
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                problems.Add(file, $"line {e.Start.Line}", $"is not valid YAML: {e.Message}");
                continue;
            }

            switch (file.Split('/')[0])
            {
                case "compose":
                    ComposeChecks.Check(this, file, documents.Single(), problems);
                    break;
                case "kubernetes":
                    KubernetesChecks.Check(this, file, documents, problems);
                    break;
                case "monitoring":
                    MonitoringChecks.Check(file, documents.Single(), problems);
                    break;
                default:
                    problems.Add(file, "(file)", "no check knows this kind of file; add one to Cluster.Deploy.Tests");
                    break;
            }
        }

        return problems;
    }
}

/// <summary>Problems found, each as <c>deploy/{file}: {where}: {message}</c>.</summary>
public sealed class Problems : List<string>
{
    public void Add(string file, string where, string message) => Add($"deploy/{file}: {where}: {message}");
}
