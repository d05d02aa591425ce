using System.Diagnostics;

namespace Cluster.Edge.Tests.Overload;

/// <summary>
/// Open-loop load: requests go out at a fixed rate whether or not earlier ones have answered, as
/// independent callers send them, so a slow server meets more load rather than less.
/// </summary>
public static class OpenLoop
{
    /// <summary>Sends <paramref name="perSecond"/> requests a second for <paramref name="duration"/>; the outcomes in send order.</summary>
    public static Task<T[]> RunAsync<T>(int perSecond, TimeSpan duration, Func<int, Task<T>> send) =>
        RunAsync(perSecond, (elapsed, _) => elapsed < duration, send);

    /// <summary>
    /// Sends <paramref name="perSecond"/> requests a second while <paramref name="keepGoing"/>, asked every few
    /// milliseconds with the time so far and the requests sent, says so; the outcomes in send order.
    /// </summary>
    public static async Task<T[]> RunAsync<T>(int perSecond, Func<TimeSpan, IReadOnlyList<Task<T>>, bool> keepGoing, Func<int, Task<T>> send)
    {
        var outcomes = new List<Task<T>>();
        var clock = Stopwatch.StartNew();
        while (keepGoing(clock.Elapsed, outcomes))
        {
            for (var due = (int)(clock.Elapsed.TotalSeconds * perSecond); outcomes.Count < due;)
            {
                outcomes.Add(send(outcomes.Count));
            }

            await Task.Delay(5);
        }

        return await Task.WhenAll(outcomes);
    }
}
