using System.Globalization;
using Cluster.Contracts.Models;

namespace Cluster.Contracts.Experiments;

/// <summary>
/// The serving settings an experiment arm changes for its own replicas; null members keep the model's value.
/// Written on the console as <c>name=value</c> with the names of <c>config.json</c>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ArmOverrides
{
    /// <summary>The settings an arm may change, by their <c>config.json</c> names.</summary>
    public static readonly string[] Names =
        ["max_batch_size", "preferred_batch_size", "max_queue_delay_microseconds", "max_queue_size", "default_timeout_microseconds", "device_kinds"];

    /// <summary>Overrides <c>max_batch_size</c> (1 up to the model's own).</summary>
    [Id(0)] public int? MaxBatchSize { get; init; }

    /// <summary>Overrides <c>preferred_batch_size</c>.</summary>
    [Id(1)] public int[]? PreferredBatchSizes { get; init; }

    /// <summary>Overrides <c>max_queue_delay_microseconds</c>.</summary>
    [Id(2)] public long? MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Overrides <c>max_queue_size</c>.</summary>
    [Id(3)] public int? MaxQueueSize { get; init; }

    /// <summary>Overrides <c>default_timeout_microseconds</c>.</summary>
    [Id(4)] public long? DefaultTimeoutMicroseconds { get; init; }

    /// <summary>Overrides <c>device_kinds</c>.</summary>
    [Id(5)] public string[]? DeviceKinds { get; init; }

    /// <summary><paramref name="config"/> with these overrides applied.</summary>
    public ModelConfig ApplyTo(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config with
        {
            MaxBatchSize = MaxBatchSize ?? config.MaxBatchSize,
            DeviceKinds = DeviceKinds ?? config.DeviceKinds,
            DynamicBatching = config.DynamicBatching with
            {
                PreferredBatchSizes = PreferredBatchSizes ?? config.DynamicBatching.PreferredBatchSizes,
                MaxQueueDelayMicroseconds = MaxQueueDelayMicroseconds ?? config.DynamicBatching.MaxQueueDelayMicroseconds,
                MaxQueueSize = MaxQueueSize ?? config.DynamicBatching.MaxQueueSize,
                DefaultTimeoutMicroseconds = DefaultTimeoutMicroseconds ?? config.DynamicBatching.DefaultTimeoutMicroseconds,
            },
        };
    }

    /// <summary>
    /// These overrides with <paramref name="setting"/> (<c>name=value</c>; lists comma-separated) added; throws
    /// FormatException naming the setting when it is unknown or its value is not valid for it.
    /// </summary>
    public ArmOverrides With(string setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var equals = setting.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? setting : setting[..equals];
        var value = equals < 0 ? "" : setting[(equals + 1)..];
        return name switch
        {
            "max_batch_size" => this with { MaxBatchSize = (int)Number(name, value, min: 1) },
            "preferred_batch_size" => this with { PreferredBatchSizes = [.. value.Split(',').Select(v => (int)Number(name, v, min: 1))] },
            "max_queue_delay_microseconds" => this with { MaxQueueDelayMicroseconds = Number(name, value, min: 0) },
            "max_queue_size" => this with { MaxQueueSize = (int)Number(name, value, min: 0) },
            "default_timeout_microseconds" => this with { DefaultTimeoutMicroseconds = Number(name, value, min: 0) },
            "device_kinds" when value.Length > 0 => this with { DeviceKinds = value.Split(',') },
            "device_kinds" => throw new FormatException("Setting 'device_kinds' needs one or more device kinds, comma-separated (e.g. device_kinds=cuda,cpu)."),
            _ => throw new FormatException($"Setting '{name}' is not one an arm can change; settings: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>What is wrong with these overrides for a model configured as <paramref name="config"/>; null when they fit.</summary>
    public string? Problem(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (MaxBatchSize is { } max && (config.MaxBatchSize == 0 || max > config.MaxBatchSize))
        {
            return $"max_batch_size {max} must be between 1 and the model's own max_batch_size ({config.MaxBatchSize}).";
        }

        var largest = MaxBatchSize ?? config.MaxBatchSize;
        return PreferredBatchSizes is { } preferred && Array.Exists(preferred, size => size > largest)
            ? $"preferred_batch_size {string.Join(",", preferred)} must not exceed max_batch_size ({largest})."
            : null;
    }

    /// <summary>The overrides written <c>name=value ...</c>, or <c>none</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        Add(parts, "max_batch_size", MaxBatchSize?.ToString(CultureInfo.InvariantCulture));
        Add(parts, "preferred_batch_size", PreferredBatchSizes is null ? null : string.Join(",", PreferredBatchSizes));
        Add(parts, "max_queue_delay_microseconds", MaxQueueDelayMicroseconds?.ToString(CultureInfo.InvariantCulture));
        Add(parts, "max_queue_size", MaxQueueSize?.ToString(CultureInfo.InvariantCulture));
        Add(parts, "default_timeout_microseconds", DefaultTimeoutMicroseconds?.ToString(CultureInfo.InvariantCulture));
        Add(parts, "device_kinds", DeviceKinds is null ? null : string.Join(",", DeviceKinds));
        return parts.Count == 0 ? "none" : string.Join(" ", parts);
    }

    /// <inheritdoc />
    public bool Equals(ArmOverrides? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc />
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    private static void Add(List<string> parts, string name, string? value)
    {
        if (value is not null)
        {
            parts.Add($"{name}={value}");
        }
    }

    private static long Number(string name, string value, long min) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= int.MaxValue
            ? number
            : throw new FormatException($"Setting '{name}' needs a whole number of at least {min}, not '{value}'.");
}
