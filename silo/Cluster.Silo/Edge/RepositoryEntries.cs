using System.Globalization;
using Cluster.Contracts.Models;

namespace Cluster.Silo.Edge;

/// <summary>The repository index both protocols report: one entry per model version with its state and reason.</summary>
public static class RepositoryEntries
{
    /// <summary>The state of a servable version.</summary>
    public const string Ready = "READY";

    /// <summary>The state of a version that cannot serve.</summary>
    public const string Unavailable = "UNAVAILABLE";

    /// <summary>An index entry.</summary>
    public sealed record Entry(string Name, string Version, string State, string Reason);

    /// <summary>Entries for every version of every model, in name then version order.</summary>
    public static IEnumerable<Entry> From(IEnumerable<ModelDescriptor> models)
    {
        foreach (var model in models)
        {
            foreach (var version in model.Versions.OrderBy(v => v.Version))
            {
                var (ready, reason) = model.StateOf(version);
                yield return new Entry(model.Name, version.Version.ToString(CultureInfo.InvariantCulture), ready ? Ready : Unavailable, reason);
            }
        }
    }
}
