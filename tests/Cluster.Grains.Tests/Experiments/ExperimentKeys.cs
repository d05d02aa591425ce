using Cluster.Contracts.Experiments;

namespace Cluster.Grains.Tests.Experiments;

/// <summary>Assignment keys for tests that need a request to land in a given arm.</summary>
internal static class ExperimentKeys
{
    /// <summary>
    /// The first of <c>{prefix}0</c>, <c>{prefix}1</c>, … (up to 100) that <paramref name="experiment"/> assigns to <paramref name="arm"/>.
    /// </summary>
    public static string For(Experiment experiment, string arm, string prefix = "user-") =>
        Enumerable.Range(0, 100).Select(i => $"{prefix}{i}").First(k => ExperimentAssignment.Choose(experiment, k, 0).Name == arm);
}
