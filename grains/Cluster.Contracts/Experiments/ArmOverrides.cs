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
    /// <summary>The settings of the <c>generation</c> object an arm of a generation model may change.</summary>
    public static readonly string[] GenerationNames = ["max_running_sequences", "max_step_tokens", "max_waiting", "prefix_caching"];

    /// <summary>The model variants an arm may ask for (the precisions of a version's ONNX files).</summary>
    public static readonly string[] Variants = ["fp32", "fp16", "int8"];

    /// <summary>The settings an arm may change, by their <c>config.json</c> names (and <c>variant</c>).</summary>
    public static readonly string[] Names =
    [
        "max_batch_size", "preferred_batch_size", "max_queue_delay_microseconds", "max_queue_size", "default_timeout_microseconds", "device_kinds",
        "instance_count", "variant", .. GenerationNames,
    ];

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

    /// <summary>Overrides <c>instance_count</c> (the arm loads sessions of its own).</summary>
    [Id(6)] public int? InstanceCount { get; init; }

    /// <summary>Overrides <c>generation.max_running_sequences</c> (the arm loads a decoder of its own).</summary>
    [Id(7)] public int? MaxRunningSequences { get; init; }

    /// <summary>Overrides <c>generation.max_step_tokens</c> (the arm loads a decoder of its own).</summary>
    [Id(8)] public int? MaxStepTokens { get; init; }

    /// <summary>Overrides <c>generation.max_waiting</c> (the arm loads a decoder of its own).</summary>
    [Id(9)] public int? MaxWaiting { get; init; }

    /// <summary>Overrides <c>generation.prefix_caching</c> (the arm loads a decoder of its own).</summary>
    [Id(10)] public bool? PrefixCaching { get; init; }

    /// <summary>
    /// The variant the arm serves on every device (<c>fp32</c>, <c>fp16</c>, <c>int8</c>) instead of the one that suits the
    /// device (the arm loads sessions of its own).
    /// </summary>
    [Id(11)] public string? Variant { get; init; }

    /// <summary>
    /// Whether the arm needs sessions of its own on a device rather than the ones its version shares: its instance count or
    /// a generation setting (the decoder's engine, with its KV cache, is built from them) differ.
    /// </summary>
    public bool NeedsOwnSessions =>
        InstanceCount is not null || Variant is not null || MaxRunningSequences is not null || MaxStepTokens is not null || MaxWaiting is not null
        || PrefixCaching is not null;

    /// <summary><paramref name="config"/> with these overrides applied.</summary>
    public ModelConfig ApplyTo(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config with
        {
            MaxBatchSize = MaxBatchSize ?? config.MaxBatchSize,
            InstanceCount = InstanceCount ?? config.InstanceCount,
            Generation = config.Generation is { } generation
                ? generation with
                {
                    MaxRunningSequences = MaxRunningSequences ?? generation.MaxRunningSequences,
                    MaxStepTokens = MaxStepTokens ?? generation.MaxStepTokens,
                    MaxWaiting = MaxWaiting ?? generation.MaxWaiting,
                    PrefixCaching = PrefixCaching ?? generation.PrefixCaching,
                }
                : null,
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
            "instance_count" => this with { InstanceCount = (int)Number(name, value, min: 1, max: MaxInstances) },
            "max_running_sequences" => this with { MaxRunningSequences = (int)Number(name, value, min: 1) },
            "max_step_tokens" => this with { MaxStepTokens = (int)Number(name, value, min: 1) },
            "max_waiting" => this with { MaxWaiting = (int)Number(name, value, min: 0) },
            "prefix_caching" => this with { PrefixCaching = Flag(name, value) },
            "variant" when Variants.Contains(value) => this with { Variant = value },
            "variant" => throw new FormatException($"Setting 'variant' needs one of {string.Join(", ", Variants)}, not '{value}'."),
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

        if (config.Generation is null && Set().FirstOrDefault(s => GenerationNames.Contains(s.Name)) is { Name: { } generationSetting })
        {
            return $"{generationSetting} is a generation setting, and the model does not generate text.";
        }

        if (config.Generation is not null && InstanceCount is not null)
        {
            return "instance_count does not apply to a generation model: its decoder runs one session per device.";
        }

        if (Variant is not null && (config.Generation is not null || config.TextEmbedding is not null))
        {
            return "variant does not apply to a generation or text-embedding model: it serves its one model.onnx.";
        }

        var largest = MaxBatchSize ?? config.MaxBatchSize;
        return PreferredBatchSizes is { } preferred && Array.Exists(preferred, size => size > largest)
            ? $"preferred_batch_size {string.Join(",", preferred)} must not exceed max_batch_size ({largest})."
            : null;
    }

    /// <summary>The overrides written <c>name=value ...</c>, or <c>none</c>.</summary>
    public override string ToString()
    {
        var parts = Set().Select(s => $"{s.Name}={s.Value}").ToArray();
        return parts.Length == 0 ? "none" : string.Join(" ", parts);
    }

    /// <inheritdoc />
    public bool Equals(ArmOverrides? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc />
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    /// <summary>The most session instances an arm may load, as for <c>instance_count</c> in <c>config.json</c>.</summary>
    public const int MaxInstances = 64;

    /// <summary>The settings these overrides change, by name, with their values as written.</summary>
    private IEnumerable<(string Name, string Value)> Set()
    {
        (string Name, string? Value)[] all =
        [
            ("max_batch_size", MaxBatchSize?.ToString(CultureInfo.InvariantCulture)),
            ("preferred_batch_size", PreferredBatchSizes is null ? null : string.Join(",", PreferredBatchSizes)),
            ("max_queue_delay_microseconds", MaxQueueDelayMicroseconds?.ToString(CultureInfo.InvariantCulture)),
            ("max_queue_size", MaxQueueSize?.ToString(CultureInfo.InvariantCulture)),
            ("default_timeout_microseconds", DefaultTimeoutMicroseconds?.ToString(CultureInfo.InvariantCulture)),
            ("device_kinds", DeviceKinds is null ? null : string.Join(",", DeviceKinds)),
            ("instance_count", InstanceCount?.ToString(CultureInfo.InvariantCulture)),
            ("max_running_sequences", MaxRunningSequences?.ToString(CultureInfo.InvariantCulture)),
            ("max_step_tokens", MaxStepTokens?.ToString(CultureInfo.InvariantCulture)),
            ("max_waiting", MaxWaiting?.ToString(CultureInfo.InvariantCulture)),
            ("prefix_caching", PrefixCaching is { } caching ? (caching ? "true" : "false") : null),
            ("variant", Variant),
        ];
        return all.Where(s => s.Value is not null).Select(s => (s.Name, s.Value!));
    }

    private static long Number(string name, string value, long min, long max = int.MaxValue) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : throw new FormatException(max == int.MaxValue
                ? $"Setting '{name}' needs a whole number of at least {min}, not '{value}'."
                : $"Setting '{name}' needs a whole number from {min} to {max}, not '{value}'.");

    private static bool Flag(string name, string value) => value switch
    {
        "true" => true,
        "false" => false,
        _ => throw new FormatException($"Setting '{name}' needs true or false, not '{value}'."),
    };
}
