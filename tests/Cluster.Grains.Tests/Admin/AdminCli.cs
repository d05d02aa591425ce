using Cluster.Cli;

namespace Cluster.Grains.Tests.Admin;

/// <summary>Runs the <c>cluster</c> console in this process against a test cluster's gateway, capturing its output.</summary>
public static class AdminCli
{
    /// <summary>Runs the console with <paramref name="args"/> plus the cluster's gateway and id; returns the exit code and stdout/stderr.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunCliAsync(this InProcessCluster cluster, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ClusterCommandLine.RunAsync([.. args, "--gateway", cluster.Gateways[0], "--cluster-id", cluster.ClusterId], output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Adds version 2 of <paramref name="model"/>, a copy of version 1.</summary>
    public static void AddSecondVersion(string repository, string model)
    {
        var target = Path.Combine(repository, model, "2");
        Directory.CreateDirectory(target);
        File.Copy(Path.Combine(repository, model, "1", "model.onnx"), Path.Combine(target, "model.onnx"));
    }

    /// <summary>A repository where tiny_classifier and int64_scale have versions 1 and 2 (the policy serves only 2).</summary>
    public static void PrepareRepository(string repository)
    {
        AddSecondVersion(repository, "tiny_classifier");
        AddSecondVersion(repository, "int64_scale");
    }
}
