using System.Diagnostics;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;

namespace Cluster.Inference.Execution;

/// <summary>
/// A model on a simulated device: it takes the modelled time (fixed + per item) and returns
/// zero-filled outputs of the declared shapes. For capacity planning, never for checking results.
/// </summary>
public sealed class SimulatedModel(ModelVersionDescriptor version, SimulatedDevice device, long weightBytes, SimulatedFault? fault = null) : ILoadedModel
{
    /// <inheritdoc />
    public long WeightBytes { get; } = weightBytes;

    /// <inheritdoc />
    public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        fault?.BeforeBatch();
        var start = Stopwatch.GetTimestamp();
        long items = 0;
        foreach (var request in requests)
        {
            items += Rows(request);
        }

        Thread.Sleep(device.BatchLatency(items));
        var ran = Stopwatch.GetTimestamp();
        var results = new TensorData[requests.Count][];
        for (var r = 0; r < requests.Count; r++)
        {
            results[r] = new TensorData[outputNames.Count];
            for (var i = 0; i < outputNames.Count; i++)
            {
                results[r][i] = Zeros(Array.Find(version.Outputs, o => o.Name == outputNames[i])!, Rows(requests[r]));
            }
        }

        return new BatchResult
        {
            Outputs = results,
            Timings = new BatchTimings { InferNanoseconds = (long)Stopwatch.GetElapsedTime(start, ran).TotalNanoseconds },
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static long Rows(TensorData[] request) => request.Length > 0 && request[0].Shape.Length > 0 ? request[0].Shape[0] : 1;

    private static TensorData Zeros(TensorSpec spec, long rows)
    {
        var shape = new long[spec.Shape.Length];
        for (var d = 0; d < shape.Length; d++)
        {
            shape[d] = spec.Shape[d] >= 0 ? spec.Shape[d] : d == 0 ? rows : 1;
        }

        var count = (int)TensorShape.ElementCount(shape);
        return spec.ElementType == TensorElementType.String
            ? TensorData.FromStrings(spec.Name, Enumerable.Repeat("", count).ToArray(), shape)
            : new TensorData { Name = spec.Name, ElementType = spec.ElementType, Shape = shape, Data = new byte[count * spec.ElementType.SizeOf()] };
    }
}
