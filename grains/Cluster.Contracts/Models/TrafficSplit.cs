namespace Cluster.Contracts.Models;

/// <summary>One version's share of a model's versionless traffic, in percent.</summary>
[GenerateSerializer, Immutable]
public sealed record VersionWeight
{
    /// <summary>The model version.</summary>
    [Id(0)] public required long Version { get; init; }

    /// <summary>Its share of the requests that name no version, 0-100.</summary>
    [Id(1)] public required int Percent { get; init; }
}

/// <summary>Weighted choice of a version for requests that name none, and the rules a split must follow.</summary>
public static class TrafficSplit
{
    /// <summary>The version <paramref name="sample"/> (uniform in [0, 1)) falls on, walking the split's percentages in order.</summary>
    public static long Choose(IReadOnlyList<VersionWeight> split, double sample)
    {
        ArgumentNullException.ThrowIfNull(split);
        var point = sample * 100;
        var cumulative = 0;
        foreach (var weight in split)
        {
            cumulative += weight.Percent;
            if (point < cumulative)
            {
                return weight.Version;
            }
        }

        return split[^1].Version;
    }

    /// <summary>What is wrong with <paramref name="split"/> for a model serving <paramref name="served"/>; null when it is valid (empty clears the
    /// split).</summary>
    public static string? Problem(string model, IReadOnlyList<VersionWeight> split, IReadOnlyCollection<long> served)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Count == 0)
        {
            return null;
        }

        foreach (var weight in split)
        {
            if (weight.Percent is < 0 or > 100)
            {
                return $"Traffic split of model '{model}': version {weight.Version} has {weight.Percent}%; each share must be 0-100.";
            }

            if (!served.Contains(weight.Version))
            {
                return $"Traffic split of model '{model}': version {weight.Version} is not served; served versions: {string.Join(", ", served)}.";
            }
        }

        if (split.Select(w => w.Version).Distinct().Count() != split.Count)
        {
            return $"Traffic split of model '{model}' names a version twice.";
        }

        var total = split.Sum(w => w.Percent);
        return total == 100 ? null : $"Traffic split of model '{model}' sums to {total}%; the shares must sum to 100.";
    }

    /// <summary>The split without <paramref name="removed"/>, the others scaled back to 100% (empty when nothing with weight is left).</summary>
    public static VersionWeight[] Without(IReadOnlyList<VersionWeight> split, IReadOnlyCollection<long> removed)
    {
        ArgumentNullException.ThrowIfNull(split);
        var kept = split.Where(w => !removed.Contains(w.Version)).ToArray();
        var total = kept.Sum(w => w.Percent);
        if (kept.Length == split.Count || total == 0)
        {
            return total == 0 ? [] : kept;
        }

        var scaled = kept.Select(w => w with { Percent = w.Percent * 100 / total }).ToArray();
        scaled[0] = scaled[0] with { Percent = scaled[0].Percent + 100 - scaled.Sum(w => w.Percent) };
        return scaled;
    }

    /// <summary>The split written <c>1=90 2=10</c>.</summary>
    public static string Format(IReadOnlyList<VersionWeight> split) =>
        split.Count == 0 ? "none" : string.Join(" ", split.Select(w => $"{w.Version}={w.Percent}"));
}
