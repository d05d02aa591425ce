using System.Diagnostics;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>A model version in an ONNX Runtime session: CUDA provider with the device id on a GPU, CPU provider on <c>cpu:*</c>.</summary>
public sealed class OnnxRuntimeModel : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    /// <summary>Creates the session; throws <see cref="OnnxRuntimeException"/> with ONNX Runtime's message when it cannot.</summary>
    public OnnxRuntimeModel(string onnxPath, DeviceDescriptor device, int intraOpThreads = 0, CudaProviderSettings? cuda = null)
    {
        _session = OrtSessions.Open(onnxPath, device, intraOpThreads, cuda);
        WeightBytes = new FileInfo(onnxPath).Length;
    }

    /// <inheritdoc />
    public long WeightBytes { get; }

    /// <inheritdoc />
    public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        var first = requests[0];
        var names = new string[first.Length];
        var inputs = new MergedInput[first.Length];
        var values = new OrtValue[first.Length];
        var start = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < first.Length; i++)
            {
                names[i] = first[i].Name;
                inputs[i] = BatchTensors.Merge(requests, i);
                values[i] = inputs[i].Value;
            }

            var merged = Stopwatch.GetTimestamp();
            using var outputs = _session.Run(_runOptions, names, values, outputNames);
            var ran = Stopwatch.GetTimestamp();
            var results = new TensorData[requests.Count][];
            var rows = new int[requests.Count];
            for (var r = 0; r < requests.Count; r++)
            {
                results[r] = new TensorData[outputNames.Count];
                rows[r] = requests[r][0].Shape.Length > 0 ? (int)requests[r][0].Shape[0] : 1;
            }

            var index = 0;
            foreach (var output in outputs)
            {
                BatchTensors.Split(outputNames[index], output, rows, results, index);
                index++;
            }

            return new BatchResult
            {
                Outputs = results,
                Timings = new BatchTimings
                {
                    InputNanoseconds = Nanoseconds(start, merged),
                    InferNanoseconds = Nanoseconds(merged, ran),
                    OutputNanoseconds = Nanoseconds(ran, Stopwatch.GetTimestamp()),
                },
            };
        }
        finally
        {
            foreach (var input in inputs)
            {
                if (input.Value is not null)
                {
                    input.Dispose();
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static long Nanoseconds(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalNanoseconds;
}
