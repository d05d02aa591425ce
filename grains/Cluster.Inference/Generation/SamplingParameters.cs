namespace Cluster.Inference.Generation;

/// <summary>
/// How the next token is chosen from a sequence's logits. Ranges are checked again here so that a
/// nonsensical value fails where it is made rather than deep inside a decode step.
/// </summary>
/// <param name="Temperature">Divides the logits; 0 means greedy (argmax), which ignores the other settings.</param>
/// <param name="TopP">Nucleus mass in (0, 1]; 1 turns the nucleus filter off.</param>
/// <param name="TopK">Keeps only the K most probable tokens; 0 turns the filter off.</param>
/// <param name="Seed">Names the random stream; the same seed and logits give the same tokens.</param>
public sealed record SamplingParameters(float Temperature, float TopP, int TopK, ulong Seed)
{
    private readonly float _temperature = CheckTemperature(Temperature);
    private readonly float _topP = CheckTopP(TopP);
    private readonly int _topK = CheckTopK(TopK);

    /// <summary>Always the most likely token; consumes no random draws.</summary>
    public static SamplingParameters Greedy { get; } = new(0f, 1f, 0, 0);

    /// <summary>Divides the logits; 0 means greedy (argmax).</summary>
    public float Temperature
    {
        get => _temperature;
        init => _temperature = CheckTemperature(value);
    }

    /// <summary>Nucleus mass in (0, 1]; 1 turns the nucleus filter off.</summary>
    public float TopP
    {
        get => _topP;
        init => _topP = CheckTopP(value);
    }

    /// <summary>Keeps only the K most probable tokens; 0 turns the filter off.</summary>
    public int TopK
    {
        get => _topK;
        init => _topK = CheckTopK(value);
    }

    /// <summary>
    /// Whether every call picks the argmax without randomness: temperature 0, or top-k 1 (only one
    /// token survives the filter, so a draw could not change the outcome).
    /// </summary>
    public bool IsGreedy => _temperature == 0f || _topK == 1;

    private static float CheckTemperature(float value) =>
        float.IsFinite(value) && value >= 0f
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Temperature), value, "Temperature must be a finite number >= 0.");

    private static float CheckTopP(float value) =>
        value > 0f && value <= 1f
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TopP), value, "TopP must be in (0, 1].");

    private static int CheckTopK(int value) =>
        value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TopK), value, "TopK must be >= 0 (0 = off).");
}
