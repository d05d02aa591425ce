using System.Text.RegularExpressions;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Experiments;

/// <summary>The rules an experiment's definition must follow; each problem names the field at fault.</summary>
public static partial class ExperimentRules
{
    /// <summary>What is wrong with <paramref name="experiment"/> for <paramref name="model"/>; null when it is valid.</summary>
    public static string? Problem(Experiment experiment, ModelDescriptor model)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(model);
        var prefix = $"Experiment on model '{model.Name}':";
        var arms = experiment.Arms;
        if (arms.Length < 2)
        {
            return $"{prefix} arms: needs at least two arms (the first is the control), given {arms.Length}.";
        }

        var served = model.ServedVersions.Where(v => v.IsLoadable).Select(v => v.Version).ToArray();
        foreach (var arm in arms)
        {
            if (!ArmName().IsMatch(arm.Name))
            {
                return $"{prefix} arm name '{arm.Name}' must be 1-32 letters, digits, '_' or '-'.";
            }

            if (arm.Percent is < 0 or > 100)
            {
                return $"{prefix} arm '{arm.Name}' percent {arm.Percent} must be 0-100.";
            }

            if (!served.Contains(arm.Version))
            {
                return $"{prefix} arm '{arm.Name}' version {arm.Version} is not served; served versions: {string.Join(", ", served)}.";
            }

            if (arm.Overrides.Problem(model.Config) is { } setting)
            {
                return $"{prefix} arm '{arm.Name}' {setting}";
            }
        }

        if (arms.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            return $"{prefix} arm name '{duplicate.Key}' is used twice.";
        }

        var total = arms.Sum(a => a.Percent);
        if (total != 100)
        {
            return $"{prefix} arm percents sum to {total}; they must sum to 100.";
        }

        var rail = experiment.GuardRail;
        return rail.MaxErrorRateIncrease is < 0 or > 1 ? $"{prefix} guard rail max error rate increase {rail.MaxErrorRateIncrease} must be 0-1."
            : rail.MaxP99Ratio < 1 ? $"{prefix} guard rail max p99 ratio {rail.MaxP99Ratio} must be at least 1."
            : rail.Window <= TimeSpan.Zero ? $"{prefix} guard rail window must be positive."
            : rail.MinRequests < 1 ? $"{prefix} guard rail min requests {rail.MinRequests} must be at least 1."
            : null;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex ArmName();
}
