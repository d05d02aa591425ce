namespace Cluster.Inference.Onnx;

/// <summary>
/// Reproducible pseudo-random weights (SplitMix64), so demo models are byte-identical on every
/// machine and .NET version.
/// </summary>
public sealed class DeterministicWeights(ulong seed)
{
    private ulong _state = seed;

    /// <summary>Values uniform in [-scale, scale).</summary>
    public float[] Uniform(int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(((NextUInt64() >> 11) * (1.0 / (1UL << 53)) * 2.0) - 1.0) * scale;
        }

        return values;
    }

    /// <summary>Glorot-style scale for a layer with the given fan-in.</summary>
    public static float ScaleFor(int fanIn) => 1f / MathF.Sqrt(fanIn);

    private ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
