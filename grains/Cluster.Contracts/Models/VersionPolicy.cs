namespace Cluster.Contracts.Models;

/// <summary>Triton's version policy: the latest N versions, all versions, or a specific list.</summary>
[GenerateSerializer, Immutable]
public sealed record VersionPolicy
{
    /// <summary>The policy's kind.</summary>
    [Id(0)] public required VersionPolicyKind Kind { get; init; }

    /// <summary>For <see cref="VersionPolicyKind.Latest"/>: how many of the newest versions are served.</summary>
    [Id(1)] public int LatestCount { get; init; }

    /// <summary>For <see cref="VersionPolicyKind.Specific"/>: the versions served.</summary>
    [Id(2)] public long[] Versions { get; init; } = [];

    /// <summary>Serve the newest <paramref name="count"/> versions.</summary>
    public static VersionPolicy Latest(int count) => new() { Kind = VersionPolicyKind.Latest, LatestCount = count };

    /// <summary>Serve every version found.</summary>
    public static VersionPolicy All() => new() { Kind = VersionPolicyKind.All };

    /// <summary>Serve exactly these versions.</summary>
    public static VersionPolicy Specific(params long[] versions) => new() { Kind = VersionPolicyKind.Specific, Versions = versions };

    /// <summary>The versions this policy serves out of those available, newest first.</summary>
    public long[] Select(IReadOnlyCollection<long> available)
    {
        var newestFirst = available.OrderDescending().ToArray();
        return Kind switch
        {
            VersionPolicyKind.All => newestFirst,
            VersionPolicyKind.Specific => newestFirst.Where(v => Versions.Contains(v)).ToArray(),
            _ => newestFirst.Take(LatestCount).ToArray(),
        };
    }
}

/// <summary>Kinds of <see cref="VersionPolicy"/>.</summary>
public enum VersionPolicyKind
{
    /// <summary>The newest N versions.</summary>
    Latest,

    /// <summary>Every version.</summary>
    All,

    /// <summary>A given list.</summary>
    Specific,
}
