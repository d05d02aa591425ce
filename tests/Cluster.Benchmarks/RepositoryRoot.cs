namespace Cluster.Benchmarks;

/// <summary>The source tree the benchmark runs in: the folder holding Cluster.sln, found upwards from the current directory.</summary>
public static class RepositoryRoot
{
    /// <summary>Walks up from the current directory; throws when no folder above it holds Cluster.sln.</summary>
    public static string Find()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Cluster.sln in {Environment.CurrentDirectory} or any folder above it; run the benchmark from inside the " +
            "repository.");
    }

    /// <summary>The committed demo model repository.</summary>
    public static string Models(string root) => Path.Combine(root, "deploy", "models");

    /// <summary>The folder benchmark results are written to (created when missing).</summary>
    public static string Artifacts(string root) => Directory.CreateDirectory(Path.Combine(root, "artifacts", "bench")).FullName;
}
