using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cluster.Inference.Onnx;

/// <summary>How closely a variant follows its FP32 file on the same inputs.</summary>
/// <param name="Samples">Rows of the first dimension compared.</param>
/// <param name="MaxAbsDifference">Largest absolute difference over every float output element.</param>
/// <param name="Top1Agreement">Share of rows whose first output has its largest value at the same position.</param>
public sealed record VariantAccuracy(int Samples, double MaxAbsDifference, double Top1Agreement)
{
    /// <summary>
    /// Runs both files on the CPU with the same inputs: float32 inputs uniform in [-1, 1) from <paramref name="seed"/>,
    /// a dynamic first dimension of <paramref name="samples"/> and other dynamic dimensions of 1. A model with an
    /// input that is not float32 is refused: random values would not be meaningful ids or flags.
    /// </summary>
    public static VariantAccuracy Measure(string fp32File, string variantFile, int samples, ulong seed = 7)
    {
        using var reference = OrtSessions.Open(fp32File, DeviceDescriptor.Cpu);
        using var variant = OrtSessions.Open(variantFile, DeviceDescriptor.Cpu);
        var inputs = RandomInputs(reference, samples, seed);
        using var expected = reference.Run(inputs);
        using var actual = variant.Run(inputs);
        return Compare(expected, actual);
    }

    /// <summary>Compares two runs' outputs, position by position.</summary>
    internal static VariantAccuracy Compare(IReadOnlyList<DisposableNamedOnnxValue> expected, IReadOnlyList<DisposableNamedOnnxValue> actual)
    {
        var maxDifference = 0.0;
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i].Value is DenseTensor<float> e && actual[i].Value is DenseTensor<float> a)
            {
                var ev = e.Buffer.Span;
                var av = a.Buffer.Span;
                for (var j = 0; j < ev.Length; j++)
                {
                    maxDifference = Math.Max(maxDifference, Math.Abs(ev[j] - av[j]));
                }
            }
        }

        var (rows, agree) = (1, 1);
        if (expected[0].Value is DenseTensor<float> first && actual[0].Value is DenseTensor<float> second)
        {
            rows = first.Dimensions.Length > 1 ? first.Dimensions[0] : 1;
            var width = (int)(first.Length / Math.Max(rows, 1));
            agree = Enumerable.Range(0, rows)
                .Count(r => ArgMax(first.Buffer.Span.Slice(r * width, width)) == ArgMax(second.Buffer.Span.Slice(r * width, width)));
        }

        return new VariantAccuracy(rows, maxDifference, rows == 0 ? 1 : (double)agree / rows);
    }

    private static List<NamedOnnxValue> RandomInputs(InferenceSession session, int samples, ulong seed)
    {
        var weights = new DeterministicWeights(seed);
        var inputs = new List<NamedOnnxValue>();
        foreach (var (name, metadata) in session.InputMetadata)
        {
            if (metadata.ElementType != typeof(float))
            {
                throw new ArgumentException(
                    $"Input '{name}' is {metadata.ElementType.Name}; the accuracy report compares models whose inputs are all float32.");
            }

            var shape = metadata.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? samples : 1).ToArray();
            var count = shape.Aggregate(1, (a, b) => a * b);
            inputs.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(weights.Uniform(count, 1f), shape)));
        }

        return inputs;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
