using System.Buffers;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Cluster.Inference.Onnx;

/// <summary>How closely a variant follows its FP32 file on the same inputs.</summary>
/// <param name="Samples">Rows of the first dimension compared.</param>
/// <param name="MaxAbsDifference">Largest absolute difference over every float output element.</param>
/// <param name="Top1Agreement">Share of rows whose first output has its largest value at the same position.</param>
/// <param name="Inputs">What the files ran on: <see cref="RandomInputs"/> or <see cref="WarmupInputs"/>.</param>
public sealed record VariantAccuracy(int Samples, double MaxAbsDifference, double Top1Agreement, string Inputs = VariantAccuracy.RandomInputs)
{
    /// <summary><see cref="Inputs"/> when the files ran on random float32 inputs.</summary>
    public const string RandomInputs = "random";

    /// <summary><see cref="Inputs"/> when the files ran on the model's configured warm-up requests.</summary>
    public const string WarmupInputs = "warmup";

    /// <summary>
    /// Runs both files on the CPU with the same inputs: each of <paramref name="warmups"/> when given (the model's configured
    /// warm-up requests: real data, of any type), else float32 inputs uniform in [-1, 1) from <paramref name="seed"/> with a
    /// dynamic first dimension of <paramref name="samples"/> and other dynamic dimensions of 1. Random inputs are refused for a
    /// model with an input that is not float32: they would not be meaningful ids or flags.
    /// </summary>
    public static VariantAccuracy Measure(string fp32File, string variantFile, int samples, ulong seed = 7, IReadOnlyList<WarmupRequest>? warmups = null)
    {
        using var reference = OrtSessions.Open(fp32File, DeviceDescriptor.Cpu);
        using var variant = OrtSessions.Open(variantFile, DeviceDescriptor.Cpu);
        var fromWarmups = warmups is { Count: > 0 };
        IEnumerable<TensorData[]> batches = fromWarmups ? warmups!.Select(w => w.Inputs) : [Random(reference, samples, seed)];
        var tally = new Tally();
        foreach (var inputs in batches)
        {
            using var expected = Run(reference, inputs);
            using var actual = Run(variant, inputs);
            tally.Add(expected, actual);
        }

        return new VariantAccuracy(tally.Rows, tally.MaxDifference, tally.Rows == 0 ? 1 : (double)tally.Agree / tally.Rows,
            fromWarmups ? WarmupInputs : RandomInputs);
    }

    private static IDisposableReadOnlyCollection<OrtValue> Run(InferenceSession session, TensorData[] inputs)
    {
        var pins = new MemoryHandle[inputs.Length];
        var values = new OrtValue[inputs.Length];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                values[i] = OrtTensorBridge.ToOrtValue(inputs[i], out pins[i]);
            }

            using var options = new RunOptions();
            return session.Run(options, inputs.Select(i => i.Name).ToArray(), values, session.OutputNames);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }
        }
    }

    private static TensorData[] Random(InferenceSession session, int samples, ulong seed)
    {
        var weights = new DeterministicWeights(seed);
        var inputs = new List<TensorData>();
        foreach (var (name, metadata) in session.InputMetadata)
        {
            if (metadata.ElementDataType != OrtType.Float)
            {
                throw new ArgumentException(
                    $"Input '{name}' is {metadata.ElementType.Name}; the accuracy report compares models whose inputs are all float32 on random " +
                    "inputs (configure model_warmup to compare on real ones).");
            }

            var shape = metadata.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? samples : 1L).ToArray();
            inputs.Add(TensorData.FromFloat32(name, weights.Uniform((int)TensorShape.ElementCount(shape), 1f), shape));
        }

        return [.. inputs];
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

    /// <summary>The comparison over every run so far: rows, rows whose first output peaks at the same position, the largest difference.</summary>
    private sealed class Tally
    {
        public int Rows { get; private set; }

        public int Agree { get; private set; }

        public double MaxDifference { get; private set; }

        /// <summary>Compares two runs' outputs, position by position.</summary>
        public void Add(IReadOnlyList<OrtValue> expected, IReadOnlyList<OrtValue> actual)
        {
            for (var i = 0; i < expected.Count; i++)
            {
                if (IsFloat(expected[i]) && IsFloat(actual[i]))
                {
                    var e = expected[i].GetTensorDataAsSpan<float>();
                    var a = actual[i].GetTensorDataAsSpan<float>();
                    for (var j = 0; j < e.Length; j++)
                    {
                        MaxDifference = Math.Max(MaxDifference, Math.Abs(e[j] - a[j]));
                    }
                }
            }

            if (!IsFloat(expected[0]) || !IsFloat(actual[0]))
            {
                Rows++;
                Agree++;
                return;
            }

            var shape = expected[0].GetTensorTypeAndShape().Shape;
            var rows = shape.Length > 1 ? (int)shape[0] : 1;
            var first = expected[0].GetTensorDataAsSpan<float>();
            var second = actual[0].GetTensorDataAsSpan<float>();
            var width = first.Length / Math.Max(rows, 1);
            for (var r = 0; r < rows; r++)
            {
                Agree += ArgMax(first.Slice(r * width, width)) == ArgMax(second.Slice(r * width, width)) ? 1 : 0;
            }

            Rows += rows;
        }

        private static bool IsFloat(OrtValue value) => value.IsTensor && value.GetTensorTypeAndShape().ElementDataType == OrtType.Float;
    }
}
