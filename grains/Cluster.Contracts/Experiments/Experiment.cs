namespace Cluster.Contracts.Experiments;

/// <summary>
/// An A/B test on one model: requests that name no version are shared between arms by whole-percentage shares,
/// each arm served by its own replicas (a version with configuration overrides). The first arm is the control.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Experiment
{
    /// <summary>The experiment's id (part of every assignment hash, so a new experiment reshuffles callers).</summary>
    [Id(0)] public required string Id { get; init; }

    /// <summary>The model it runs on.</summary>
    [Id(1)] public required string Model { get; init; }

    /// <summary>The arms, the control first.</summary>
    [Id(2)] public required ExperimentArm[] Arms { get; init; }

    /// <summary>The limits that stop an arm automatically.</summary>
    [Id(3)] public GuardRail GuardRail { get; init; } = new();

    /// <summary>When it started.</summary>
    [Id(4)] public DateTimeOffset StartedAt { get; init; }

    /// <summary>The control arm.</summary>
    public ExperimentArm Control => Arms[0];

    /// <summary>The arm named <paramref name="name"/>, or null.</summary>
    public ExperimentArm? Arm(string name) => Array.Find(Arms, a => a.Name == name);

    /// <summary>The <see cref="Grains.ReplicaKey.Arm"/> of <paramref name="arm"/>'s replicas: <c>{experiment id}.{arm}</c>, so a later experiment's arm of the
    /// same name starts afresh.</summary>
    public string ReplicaArm(string arm) => $"{Id}.{arm}";

    /// <summary>The experiment id and arm name of a replica's <see cref="Grains.ReplicaKey.Arm"/>.</summary>
    public static (string ExperimentId, string Arm) OfReplicaArm(string replicaArm)
    {
        ArgumentNullException.ThrowIfNull(replicaArm);
        var dot = replicaArm.LastIndexOf('.');
        return dot < 0 ? ("", replicaArm) : (replicaArm[..dot], replicaArm[(dot + 1)..]);
    }

    /// <summary>The arms' shares as they apply now: a stopped arm's share goes to the control.</summary>
    public int[] LiveShares()
    {
        var shares = Arms.Select(a => a.StoppedReason is null ? a.Percent : 0).ToArray();
        shares[0] += 100 - shares.Sum();
        return shares;
    }
}

/// <summary>One arm: a version with configuration overrides and its share of the traffic.</summary>
[GenerateSerializer, Immutable]
public sealed record ExperimentArm
{
    /// <summary>The arm's name, unique in its experiment (letters, digits, <c>_</c>, <c>-</c>).</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>The model version it serves.</summary>
    [Id(1)] public required long Version { get; init; }

    /// <summary>Its share of the requests that name no version, 0-100.</summary>
    [Id(2)] public required int Percent { get; init; }

    /// <summary>The settings its replicas change.</summary>
    [Id(3)] public ArmOverrides Overrides { get; init; } = new();

    /// <summary>Why a guard rail stopped it; null while it runs.</summary>
    [Id(4)] public string? StoppedReason { get; init; }
}

/// <summary>
/// When an arm is stopped automatically: over the last <see cref="Window"/>, once both it and the control have
/// <see cref="MinRequests"/> requests there, its error rate exceeds the control's by more than
/// <see cref="MaxErrorRateIncrease"/>, or its p99 latency exceeds the control's times <see cref="MaxP99Ratio"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GuardRail
{
    /// <summary>The largest error rate above the control's an arm may have (0.05 = five points).</summary>
    [Id(0)] public double MaxErrorRateIncrease { get; init; } = 0.05;

    /// <summary>The largest ratio of an arm's p99 latency to the control's.</summary>
    [Id(1)] public double MaxP99Ratio { get; init; } = 2;

    /// <summary>How far back the check looks.</summary>
    [Id(2)] public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The fewest requests in the window, in the arm and in the control, before the check judges.</summary>
    [Id(3)] public int MinRequests { get; init; } = 20;
}
