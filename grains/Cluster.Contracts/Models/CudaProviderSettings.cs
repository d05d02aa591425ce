namespace Cluster.Contracts.Models;

/// <summary>
/// ONNX Runtime CUDA execution provider settings, per model (<c>config.json</c> <c>cuda</c>) over the silo's
/// (<c>Cluster:Devices:CudaProvider</c>); a field left null takes the silo's value, then ONNX Runtime's default.
/// The device id is always the device's own.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CudaProviderSettings
{
    /// <summary>Arena size limit in bytes (ONNX Runtime <c>gpu_mem_limit</c>).</summary>
    [Id(0)] public long? MemoryLimitBytes { get; init; }

    /// <summary><c>next_power_of_two</c> or <c>same_as_requested</c> (<c>arena_extend_strategy</c>).</summary>
    [Id(1)] public string? ArenaExtendStrategy { get; init; }

    /// <summary><c>exhaustive</c>, <c>heuristic</c> or <c>default</c> (<c>cudnn_conv_algo_search</c>).</summary>
    [Id(2)] public string? CudnnConvAlgoSearch { get; init; }

    /// <summary>Copies on the compute stream (<c>do_copy_in_default_stream</c>); false gives copies their own stream.</summary>
    [Id(3)] public bool? CopyInDefaultStream { get; init; }

    /// <summary>Captures the model as a CUDA graph (<c>enable_cuda_graph</c>); for fixed-shape models only.</summary>
    [Id(4)] public bool? CudaGraph { get; init; }

    /// <summary>The allowed <see cref="ArenaExtendStrategy"/> values and ONNX Runtime's names for them.</summary>
    public static IReadOnlyDictionary<string, string> ArenaStrategies { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["next_power_of_two"] = "kNextPowerOfTwo",
        ["same_as_requested"] = "kSameAsRequested",
    };

    /// <summary>The allowed <see cref="CudnnConvAlgoSearch"/> values and ONNX Runtime's names for them.</summary>
    public static IReadOnlyDictionary<string, string> ConvAlgoSearches { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["exhaustive"] = "EXHAUSTIVE",
        ["heuristic"] = "HEURISTIC",
        ["default"] = "DEFAULT",
    };

    /// <summary>These settings with every unset field taken from <paramref name="baseline"/>.</summary>
    public CudaProviderSettings Over(CudaProviderSettings? baseline) => baseline is null ? this : new()
    {
        MemoryLimitBytes = MemoryLimitBytes ?? baseline.MemoryLimitBytes,
        ArenaExtendStrategy = ArenaExtendStrategy ?? baseline.ArenaExtendStrategy,
        CudnnConvAlgoSearch = CudnnConvAlgoSearch ?? baseline.CudnnConvAlgoSearch,
        CopyInDefaultStream = CopyInDefaultStream ?? baseline.CopyInDefaultStream,
        CudaGraph = CudaGraph ?? baseline.CudaGraph,
    };

    /// <summary>Problems, each naming its setting as <paramref name="name"/> spells it; empty when valid.</summary>
    public IEnumerable<string> Validate(Func<string, string> name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (MemoryLimitBytes is <= 0)
        {
            yield return $"{name(nameof(MemoryLimitBytes))} must be a positive number of bytes, got {MemoryLimitBytes}";
        }

        if (ArenaExtendStrategy is { } arena && !ArenaStrategies.ContainsKey(arena))
        {
            yield return $"{name(nameof(ArenaExtendStrategy))} '{arena}' must be one of: {string.Join(", ", ArenaStrategies.Keys)}";
        }

        if (CudnnConvAlgoSearch is { } search && !ConvAlgoSearches.ContainsKey(search))
        {
            yield return $"{name(nameof(CudnnConvAlgoSearch))} '{search}' must be one of: {string.Join(", ", ConvAlgoSearches.Keys)}";
        }
    }

    /// <summary>ONNX Runtime's CUDA provider options for device <paramref name="deviceId"/>; only the fields set, besides the id.</summary>
    public Dictionary<string, string> ProviderOptions(int deviceId)
    {
        var options = new Dictionary<string,
            string>(StringComparer.Ordinal) { ["device_id"] = deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (MemoryLimitBytes is { } limit)
        {
            options["gpu_mem_limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (ArenaExtendStrategy is { } arena)
        {
            options["arena_extend_strategy"] = ArenaStrategies[arena];
        }

        if (CudnnConvAlgoSearch is { } search)
        {
            options["cudnn_conv_algo_search"] = ConvAlgoSearches[search];
        }

        if (CopyInDefaultStream is { } copy)
        {
            options["do_copy_in_default_stream"] = copy ? "1" : "0";
        }

        if (CudaGraph is { } graph)
        {
            options["enable_cuda_graph"] = graph ? "1" : "0";
        }

        return options;
    }
}
