using System.Reflection;

namespace Cluster.Tests.Shared;

/// <summary>Paths inside the source tree, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    /// <summary>The folder holding Cluster.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The committed demo model repository.</summary>
    public static string Models => Path.Combine(Root, "deploy", "models");

    /// <summary>The bundled pretrained models (all-MiniLM-L6-v2), written beside the test assembly by build/PretrainedModels.targets.</summary>
    public static string BundledModels => Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>The build configuration the tests were built with (Debug or Release).</summary>
    public static string Configuration { get; } =
        typeof(RepositoryPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "Configuration").Value!;

    /// <summary>A copy of the demo model repository in a new temporary folder.</summary>
    public static string CopyModelsToTemp()
    {
        var target = Directory.CreateTempSubdirectory("cluster-models-").FullName;
        foreach (var file in Directory.EnumerateFiles(Models, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(Models, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    /// <summary>Adds a model whose <c>model.onnx</c> is not ONNX at all.</summary>
    public static void AddCorruptModel(string repository, string name)
    {
        var version = Path.Combine(repository, name, "1");
        Directory.CreateDirectory(version);
        File.WriteAllText(Path.Combine(version, "model.onnx"), "this is not an ONNX file");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}.");
    }
}
