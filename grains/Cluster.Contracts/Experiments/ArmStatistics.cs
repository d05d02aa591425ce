namespace Cluster.Contracts.Experiments;

/// <summary>What one arm's replica measured: counts since it started, its most recent requests, and the feedback on its answers.</summary>
[GenerateSerializer, Immutable]
public sealed record ArmStatistics
{
    /// <summary>Requests answered or failed (bad input, cancelled requests and requests that never started are left out).</summary>
    [Id(0)] public long Requests { get; init; }

    /// <summary>Requests that failed.</summary>
    [Id(1)] public long Errors { get; init; }

    /// <summary>Answers the caller reported as used.</summary>
    [Id(2)] public long Accepted { get; init; }

    /// <summary>Answers the caller reported on, used or not.</summary>
    [Id(3)] public long Feedback { get; init; }

    /// <summary>The most recent requests, oldest first.</summary>
    [Id(4)] public LatencySample[] Samples { get; init; } = [];
}

/// <summary>
/// One request's outcome: when it ended, how long it took, whether it failed; for a generation, also how long its first
/// token took (null when none came) and how many tokens it generated.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct LatencySample(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Milliseconds,
    [property: Id(2)] bool Failed,
    [property: Id(3)] double? FirstTokenMilliseconds = null,
    [property: Id(4)] int Tokens = 0)
{
    /// <summary>Tokens generated per second over the whole request; null for a request that generated none.</summary>
    public double? TokensPerSecond => Tokens > 0 && Milliseconds > 0 ? Tokens * 1000 / Milliseconds : null;
}
