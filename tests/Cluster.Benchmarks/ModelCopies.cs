namespace Cluster.Benchmarks;

/// <summary>Copies models between Triton-layout model repositories, optionally renamed and with a new config.json.</summary>
public static class ModelCopies
{
    /// <summary>
    /// Copies <paramref name="model"/> from <paramref name="sourceRepository"/> into <paramref name="targetRepository"/>
    /// as <paramref name="targetName"/> (default: the same name); <paramref name="configJson"/>, when given, replaces its config.json.
    /// </summary>
    public static void Copy(string sourceRepository, string model, string targetRepository, string? targetName = null, string? configJson = null)
    {
        var source = Path.Combine(sourceRepository, model);
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"Model '{model}' is not in {sourceRepository}.");
        }

        var target = Path.Combine(targetRepository, targetName ?? model);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        if (configJson is not null)
        {
            File.WriteAllText(Path.Combine(target, "config.json"), configJson);
        }
    }
}
