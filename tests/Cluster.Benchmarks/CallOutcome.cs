namespace Cluster.Benchmarks;

/// <summary>How one request of a reliability load ended.</summary>
internal enum CallOutcome
{
    /// <summary>Answered, with its own id.</summary>
    Succeeded,

    /// <summary>Answered with another request's id.</summary>
    WrongId,

    /// <summary>Failed with an error that says it never ran.</summary>
    Retriable,

    /// <summary>Failed with an error that does not say so: it may have run.</summary>
    Final,

    /// <summary>No answer in time.</summary>
    Lost,
}
