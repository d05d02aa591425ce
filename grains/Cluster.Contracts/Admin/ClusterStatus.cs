namespace Cluster.Contracts.Admin;

/// <summary>The cluster's silos as the membership table lists them.</summary>
[GenerateSerializer, Immutable]
public sealed record ClusterStatus
{
    /// <summary>Every silo, active ones first, then by name.</summary>
    [Id(0)] public required SiloView[] Silos { get; init; }
}

/// <summary>One silo.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloView
{
    /// <summary>The silo's name (<c>Cluster:SiloName</c>).</summary>
    [Id(0)] public required string Name { get; init; }

    /// <summary>Its address and generation.</summary>
    [Id(1)] public required string Address { get; init; }

    /// <summary>Its membership state: Active, Joining, ShuttingDown, Stopping, Dead.</summary>
    [Id(2)] public required string State { get; init; }

    /// <summary>The machine it runs on.</summary>
    [Id(3)] public string HostName { get; init; } = "";

    /// <summary>When it started.</summary>
    [Id(4)] public DateTime StartedUtc { get; init; }

    /// <summary>Whether an operator marked it draining.</summary>
    [Id(5)] public bool Draining { get; init; }

    /// <summary>The silo's metadata (cloud, region, accelerator, ...); empty when the cluster does not publish silo metadata.</summary>
    [Id(6)] public Dictionary<string, string> Metadata { get; init; } = [];
}
