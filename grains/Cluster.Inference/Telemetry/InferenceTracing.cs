using System.Diagnostics;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// Spans of a request's path: <c>infer</c> (the SDK call) → <c>route</c> (version resolution) → grain
/// calls (Orleans' activity propagation) → <c>queue</c> (waiting in the batcher) → <c>batch</c> (one per
/// batch, linked to every request it served) → <c>device.run</c>.
/// </summary>
public static class InferenceTracing
{
    /// <summary>The activity source's name, to enable it in an OpenTelemetry pipeline.</summary>
    public const string SourceName = "Cluster.Inference";

    /// <summary>The source every span above comes from.</summary>
    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>
    /// Starts a span that does not become the ambient <see cref="Activity.Current"/>, for a wait that ends
    /// elsewhere (the queue span ends when the request's batch is dispatched). Its tags cost no array, traced or not.
    /// </summary>
    public static Activity? StartDetached(string name, params ReadOnlySpan<(string Key, object? Value)> tags)
    {
        var ambient = Activity.Current;
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        if (activity is not null)
        {
            foreach (var (key, value) in tags)
            {
                activity.SetTag(key, value);
            }

            Activity.Current = ambient;
        }

        return activity;
    }
}
