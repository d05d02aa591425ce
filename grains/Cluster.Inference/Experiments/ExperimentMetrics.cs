using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cluster.Inference.Telemetry;

namespace Cluster.Inference.Experiments;

/// <summary>The experiment metrics, labelled by model, experiment and arm, on the cluster's meter.</summary>
public static class ExperimentMetrics
{
    private static readonly Counter<long> RequestCounter = ProcessGauges.Meter.CreateCounter<long>(
        "cluster_experiment_requests", description: "Requests served by an experiment arm, by outcome (success or failure)");

    private static readonly Histogram<double> LatencyHistogram = ProcessGauges.Meter.CreateHistogram<double>(
        "cluster_experiment_request_latency_ms", description: "Latency of an experiment arm's requests (milliseconds)");

    private static readonly Counter<long> FeedbackCounter = ProcessGauges.Meter.CreateCounter<long>(
        "cluster_experiment_feedback", description: "Callers' reports on an experiment arm's answers, by whether the answer was used");

    private static readonly Counter<long> StopCounter = ProcessGauges.Meter.CreateCounter<long>(
        "cluster_experiment_arm_stops", description: "Experiment arms stopped by a guard rail");

    /// <summary>Counts one request of an arm and its latency.</summary>
    public static void RecordRequest(string model, string experiment, string arm, TimeSpan elapsed, bool failed)
    {
        var tags = Tags(model, experiment, arm);
        LatencyHistogram.Record(elapsed.TotalMilliseconds, tags);
        tags.Add("outcome", failed ? "failure" : "success");
        RequestCounter.Add(1, tags);
    }

    /// <summary>Counts one feedback report.</summary>
    public static void RecordFeedback(string model, string experiment, string arm, bool accepted)
    {
        var tags = Tags(model, experiment, arm);
        tags.Add("accepted", accepted ? "true" : "false");
        FeedbackCounter.Add(1, tags);
    }

    /// <summary>Counts an arm stopped by a guard rail.</summary>
    public static void RecordStop(string model, string experiment, string arm) => StopCounter.Add(1, Tags(model, experiment, arm));

    private static TagList Tags(string model, string experiment, string arm) => new() { { "model", model }, { "experiment", experiment }, { "arm", arm } };
}
