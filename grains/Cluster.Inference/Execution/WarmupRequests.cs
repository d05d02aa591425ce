using System.Runtime.InteropServices;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Execution;

/// <summary>A warm-up request ready to run: its name, inputs in model order, how many times, and whether its failure fails the load.</summary>
public sealed record WarmupRequest(string Name, TensorData[] Inputs, int Count, bool Required = true);

/// <summary>
/// Builds Triton's <c>model_warmup</c> requests for a model version. Without configured warm-up, one
/// zero-filled request of batch 1 (dynamic dimensions set to 1) so the first real request does not pay
/// ONNX Runtime's first-run cost.
/// </summary>
public static class WarmupRequests
{
    /// <summary>The requests; throws <see cref="ArgumentException"/> naming the warm-up and input when a setting does not fit the model.</summary>
    public static IReadOnlyList<WarmupRequest> Build(ModelConfig config, ModelVersionDescriptor version, string warmupDirectory)
    {
        if (config.Warmup.Length == 0)
        {
            return [new WarmupRequest("default", [.. version.Inputs.Select(spec => Zeros(spec.Name, spec.ElementType, Concrete(spec.Shape)))], 1,
                Required: false)];
        }

        var requests = new List<WarmupRequest>();
        foreach (var setting in config.Warmup)
        {
            var inputs = new TensorData[version.Inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                var spec = version.Inputs[i];
                var input = Array.Find(setting.Inputs, w => w.Name == spec.Name)
                    ?? throw new ArgumentException($"Warm-up '{setting.Name}' gives no data for input '{spec.Name}'.");
                if (input.ElementType != spec.ElementType)
                {
                    throw new ArgumentException($"Warm-up '{setting.Name}' input '{spec.Name}' is {input.ElementType.ToProtocolName()}; the model " +
                        $"expects {spec.ElementType.ToProtocolName()}.");
                }

                long[] shape = config.MaxBatchSize > 0 ? [setting.BatchSize, .. input.Dims] : input.Dims;
                if (!TensorShape.Fits(spec.Shape, shape))
                {
                    throw new ArgumentException($"Warm-up '{setting.Name}' input '{spec.Name}' has shape {TensorShape.Format(shape)}; the model " +
                        $"expects {TensorShape.Format(spec.Shape)}.");
                }

                inputs[i] = input.Data switch
                {
                    WarmupData.Zero => Zeros(spec.Name, spec.ElementType, shape),
                    WarmupData.Random => Random(spec.Name, spec.ElementType, shape),
                    _ => FromFile(setting.Name, spec, shape, Path.Combine(warmupDirectory, Path.GetFileName(input.File!))),
                };
            }

            requests.Add(new WarmupRequest(setting.Name, inputs, setting.Count));
        }

        return requests;
    }

    private static long[] Concrete(long[] declared) => Array.ConvertAll(declared, d => d < 0 ? 1 : d);

    private static TensorData Zeros(string name, TensorElementType type, long[] shape)
    {
        var count = (int)TensorShape.ElementCount(shape);
        return type == TensorElementType.String
            ? TensorData.FromStrings(name, Enumerable.Repeat("", count).ToArray(), shape)
            : new TensorData { Name = name, ElementType = type, Shape = shape, Data = new byte[count * type.SizeOf()] };
    }

    private static TensorData Random(string name, TensorElementType type, long[] shape)
    {
        var count = (int)TensorShape.ElementCount(shape);
        var random = new Random(12345);
        if (type == TensorElementType.String)
        {
            return TensorData.FromStrings(name, Enumerable.Range(0, count)
                .Select(_ => random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), shape);
        }

        if (type is TensorElementType.Float32)
        {
            var values = new float[count];
            for (var i = 0; i < count; i++)
            {
                values[i] = (random.NextSingle() * 2) - 1;
            }

            return new TensorData { Name = name, ElementType = type, Shape = shape, Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray() };
        }

        // Other types: small non-negative values in every element, so ids and flags stay valid.
        var data = new byte[count * type.SizeOf()];
        for (var i = 0; i < count; i++)
        {
            data[i * type.SizeOf()] = (byte)random.Next(0, type == TensorElementType.Bool ? 2 : 8);
        }

        return new TensorData { Name = name, ElementType = type, Shape = shape, Data = data };
    }

    private static TensorData FromFile(string warmup, Contracts.Models.TensorSpec spec, long[] shape, string file)
    {
        if (!File.Exists(file))
        {
            throw new ArgumentException($"Warm-up '{warmup}' input '{spec.Name}': data file {file} does not exist.");
        }

        var data = File.ReadAllBytes(file);
        var needed = TensorShape.ElementCount(shape) * spec.ElementType.SizeOf();
        if (spec.ElementType != TensorElementType.String && data.LongLength != needed)
        {
            throw new ArgumentException($"Warm-up '{warmup}' input '{spec.Name}': {file} has {data.LongLength} bytes; shape {TensorShape.Format(shape)} " +
                $"needs {needed}.");
        }

        return new TensorData { Name = spec.Name, ElementType = spec.ElementType, Shape = shape, Data = data };
    }
}
