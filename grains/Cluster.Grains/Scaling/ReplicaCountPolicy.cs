using Cluster.Contracts.Models;

namespace Cluster.Grains.Scaling;

/// <summary>Since when a model version's load has asked for more, or for fewer, replicas than it has.</summary>
public sealed class ScalingState
{
    public DateTimeOffset? WantedMoreSince { get; set; }

    public DateTimeOffset? WantedFewerSince { get; set; }
}

/// <summary>
/// How many replicas a model version should have now (Ray Serve's shape): below min_replicas or above
/// max_replicas, the bound at once; otherwise the load (queued requests plus running batches) over the
/// target per replica, within the bounds, once that has differed from the current count in the same
/// direction for the upscale or downscale delay. No load means min_replicas.
/// </summary>
public static class ReplicaCountPolicy
{
    public static int Decide(ModelConfig config, int current, double load, ScalingState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(state);
        var (min, max) = (config.MinReplicas, Math.Max(config.MinReplicas, config.MaxReplicas));
        if (current < min || current > max)
        {
            (state.WantedMoreSince, state.WantedFewerSince) = (null, null);
            return Math.Clamp(current, min, max);
        }

        var wanted = Math.Clamp((int)Math.Ceiling(load / config.Autoscaling.TargetQueuePerReplica), min, max);
        if (wanted > current)
        {
            state.WantedFewerSince = null;
            state.WantedMoreSince ??= now;
            return now - state.WantedMoreSince >= config.Autoscaling.UpscaleDelay ? Reset(state, wanted) : current;
        }

        if (wanted < current)
        {
            state.WantedMoreSince = null;
            state.WantedFewerSince ??= now;
            return now - state.WantedFewerSince >= config.Autoscaling.DownscaleDelay ? Reset(state, wanted) : current;
        }

        return Reset(state, current);
    }

    private static int Reset(ScalingState state, int count)
    {
        (state.WantedMoreSince, state.WantedFewerSince) = (null, null);
        return count;
    }
}
