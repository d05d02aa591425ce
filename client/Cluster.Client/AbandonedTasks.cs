namespace Cluster.Client;

/// <summary>Tasks nobody waits for any more (a call given up on): their failure is observed so it is not reported as unobserved.</summary>
internal static class AbandonedTasks
{
    /// <summary>Lets <paramref name="task"/> end by itself; a fault it ends in is observed and dropped.</summary>
    public static void Abandon(this Task task) =>
        _ = task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
}
