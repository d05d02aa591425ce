namespace Cluster.Contracts.Experiments;

/// <summary>An experiment with each arm's measurements and its comparison with the control.</summary>
[GenerateSerializer, Immutable]
public sealed record ExperimentReport
{
    /// <summary>The experiment as stored.</summary>
    [Id(0)] public required Experiment Experiment { get; init; }

    /// <summary>One entry per arm, the control first.</summary>
    [Id(1)] public required ArmReport[] Arms { get; init; }
}

/// <summary>One arm's measurements and, for arms other than the control, the differences from it.</summary>
[GenerateSerializer, Immutable]
public sealed record ArmReport
{
    /// <summary>The arm's name.</summary>
    [Id(0)] public required string Arm { get; init; }

    /// <summary>Its share now (a stopped arm's is 0).</summary>
    [Id(1)] public int Percent { get; init; }

    /// <summary>Requests it served.</summary>
    [Id(2)] public long Requests { get; init; }

    /// <summary>Errors among them, as a rate (0 without requests).</summary>
    [Id(3)] public double ErrorRate { get; init; }

    /// <summary>The share of reported answers that were used; null without feedback.</summary>
    [Id(4)] public double? AcceptanceRate { get; init; }

    /// <summary>Feedback reports counted.</summary>
    [Id(5)] public long Feedback { get; init; }

    /// <summary>Median latency of its recent successful requests, ms; null without any.</summary>
    [Id(6)] public double? P50Milliseconds { get; init; }

    /// <summary>99th percentile latency of its recent successful requests, ms; null without any.</summary>
    [Id(7)] public double? P99Milliseconds { get; init; }

    /// <summary>Requests per second over the guard rail's window.</summary>
    [Id(8)] public double Throughput { get; init; }

    /// <summary>The arm minus the control; null for the control itself.</summary>
    [Id(9)] public ArmComparison? VersusControl { get; init; }

    /// <summary>Median time to the first token of its recent generations, ms; null without any (and for inference models).</summary>
    [Id(10)] public double? FirstTokenP50Milliseconds { get; init; }

    /// <summary>99th percentile time to the first token of its recent generations, ms; null without any.</summary>
    [Id(11)] public double? FirstTokenP99Milliseconds { get; init; }

    /// <summary>Median tokens per second of its recent generations (each one's tokens over its duration); null without any.</summary>
    [Id(12)] public double? TokensPerSecond { get; init; }
}

/// <summary>An arm minus the control, each with a 95% confidence interval (null until both have enough data).</summary>
[GenerateSerializer, Immutable]
public sealed record ArmComparison
{
    /// <summary>Difference in median latency, ms (bootstrap).</summary>
    [Id(0)] public Difference? P50Milliseconds { get; init; }

    /// <summary>Difference in 99th percentile latency, ms (bootstrap).</summary>
    [Id(1)] public Difference? P99Milliseconds { get; init; }

    /// <summary>Difference in error rate (Newcombe's interval from Wilson scores).</summary>
    [Id(2)] public Difference? ErrorRate { get; init; }

    /// <summary>Difference in acceptance rate (Newcombe's interval from Wilson scores).</summary>
    [Id(3)] public Difference? AcceptanceRate { get; init; }

    /// <summary>Difference in median time to the first token, ms (bootstrap); generation models only.</summary>
    [Id(4)] public Difference? FirstTokenP50Milliseconds { get; init; }

    /// <summary>Difference in median tokens per second (bootstrap); generation models only.</summary>
    [Id(5)] public Difference? TokensPerSecond { get; init; }
}

/// <summary>An estimated difference and its 95% confidence interval; significant when the interval leaves out zero.</summary>
[GenerateSerializer, Immutable]
public readonly record struct Difference(
    [property: Id(0)] double Estimate,
    [property: Id(1)] double Low,
    [property: Id(2)] double High)
{
    /// <summary>Whether the interval leaves out zero.</summary>
    public bool Significant => Low > 0 || High < 0;
}
