using System.Text;

namespace Cluster.Contracts.Experiments;

/// <summary>
/// Which arm a request goes to: by a hash of its assignment key and the experiment's id when it carries a key
/// (the same key always lands in the same arm, on any caller), else by a draw per request.
/// </summary>
public static class ExperimentAssignment
{
    /// <summary>
    /// The arm for a request with <paramref name="key"/> (null or empty: none), <paramref name="sample"/> uniform in [0, 1) used
    /// only then. A stopped arm's requests go to the control, so the keys of the other arms never move.
    /// </summary>
    public static ExperimentArm Choose(Experiment experiment, string? key, double sample)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var point = string.IsNullOrEmpty(key) ? (int)(sample * 100) : Bucket(key, experiment.Id);
        var cumulative = 0;
        foreach (var arm in experiment.Arms)
        {
            cumulative += arm.Percent;
            if (point < cumulative)
            {
                return arm.StoppedReason is null ? arm : experiment.Control;
            }
        }

        return experiment.Control;
    }

    /// <summary>The key's bucket, 0-99: FNV-1a (64 bits) of the UTF-8 of the key, a separator and the experiment id; stable across processes and
    /// releases.</summary>
    public static int Bucket(string key, string experimentId)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(experimentId);
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key + "\n" + experimentId))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)(hash % 100);
    }
}
