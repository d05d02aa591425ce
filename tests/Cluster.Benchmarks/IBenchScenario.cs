namespace Cluster.Benchmarks;

/// <summary>One benchmark, chosen on the command line by its <see cref="Name"/>.</summary>
public interface IBenchScenario
{
    /// <summary>The command-line name, e.g. <c>batching</c>.</summary>
    string Name { get; }

    /// <summary>One line for the usage message.</summary>
    string Summary { get; }

    /// <summary>Runs the benchmark, prints its table and writes its artifacts under <paramref name="repositoryRoot"/>.</summary>
    Task RunAsync(BenchOptions options, string repositoryRoot);
}
