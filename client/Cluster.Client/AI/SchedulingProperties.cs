using Microsoft.Extensions.AI;

namespace Cluster.Client.AI;

/// <summary>The cluster's scheduling settings carried in the <c>AdditionalProperties</c> of Microsoft.Extensions.AI options.</summary>
internal static class SchedulingProperties
{
    /// <summary>
    /// <paramref name="start"/> with the priority and timeout that <paramref name="properties"/> set; throws
    /// ArgumentException naming <paramref name="owner"/>'s property when a key is unknown or its value of the wrong kind.
    /// </summary>
    public static InferOptions Read(AdditionalPropertiesDictionary? properties, string owner, InferOptions start)
    {
        var options = start;
        foreach (var (name, value) in properties ?? [])
        {
            options = name switch
            {
                InferenceClientAIExtensions.PriorityProperty => options with
                {
                    Priority = value is int priority && priority >= 0 ? priority : throw Invalid(owner, name, "a non-negative int", value),
                },
                InferenceClientAIExtensions.TimeoutProperty => options with
                {
                    Timeout = value is TimeSpan timeout && timeout > TimeSpan.Zero ? timeout : throw Invalid(owner, name, "a positive TimeSpan", value),
                },
                _ => throw new ArgumentException(
                    $"{owner}.AdditionalProperties[\"{name}\"] is not a setting of the cluster; it takes \"{InferenceClientAIExtensions.PriorityProperty}\" " +
                        "(int) " +
                    $"and \"{InferenceClientAIExtensions.TimeoutProperty}\" (TimeSpan).", nameof(properties)),
            };
        }

        return options;
    }

    private static ArgumentException Invalid(string owner, string name, string expected, object? value) =>
        new($"{owner}.AdditionalProperties[\"{name}\"] must be {expected}, got {(value is null ? "null" : $"{value} ({value.GetType().Name})")}.", "options");
}
