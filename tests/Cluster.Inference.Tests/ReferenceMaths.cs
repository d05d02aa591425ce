using System.Runtime.InteropServices;
using Cluster.Inference.Onnx.Proto;

namespace Cluster.Inference.Tests;

/// <summary>Plain managed maths for checking ONNX Runtime's results: dense layers, relu, softmax, in double precision.</summary>
internal static class ReferenceMaths
{
    /// <summary>A float32 or float16 initializer's values, read from the ONNX file.</summary>
    public static float[] Weights(ModelProto model, string name)
    {
        var tensor = model.Graph.Initializer.Single(t => t.Name == name);
        var bytes = tensor.RawData.Span;
        return tensor.DataType switch
        {
            (int)TensorProto.Types.DataType.Float => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
            (int)TensorProto.Types.DataType.Float16 => Array.ConvertAll(MemoryMarshal.Cast<byte, Half>(bytes).ToArray(), h => (float)h),
            _ => throw new NotSupportedException($"Initializer {name} has data type {tensor.DataType}."),
        };
    }

    /// <summary>y[b,o] = sum_i x[b,i] * w[i,o] + bias[o].</summary>
    public static double[] Dense(double[] x, int batch, float[] w, float[] bias)
    {
        var inputs = x.Length / batch;
        var outputs = bias.Length;
        var y = new double[batch * outputs];
        for (var b = 0; b < batch; b++)
        {
            for (var o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                for (var i = 0; i < inputs; i++)
                {
                    sum += x[(b * inputs) + i] * w[(i * outputs) + o];
                }

                y[(b * outputs) + o] = sum;
            }
        }

        return y;
    }

    public static double[] Relu(double[] x) => Array.ConvertAll(x, v => Math.Max(0, v));

    public static double[] Softmax(double[] x, int batch)
    {
        var width = x.Length / batch;
        var y = new double[x.Length];
        for (var b = 0; b < batch; b++)
        {
            var row = x.AsSpan(b * width, width);
            var max = double.MinValue;
            foreach (var v in row)
            {
                max = Math.Max(max, v);
            }

            double sum = 0;
            for (var i = 0; i < width; i++)
            {
                y[(b * width) + i] = Math.Exp(row[i] - max);
                sum += y[(b * width) + i];
            }

            for (var i = 0; i < width; i++)
            {
                y[(b * width) + i] /= sum;
            }
        }

        return y;
    }

    public static void AssertClose(double[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var allowed = tolerance * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= allowed, $"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {allowed})");
        }
    }
}
