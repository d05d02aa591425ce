using System.Diagnostics;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>
/// A model version in an ONNX Runtime session: CUDA provider with the device id on a GPU, CPU provider on <c>cpu:*</c>. Batches run
/// through IO binding (<see cref="HostBufferBinding"/>; <see cref="CudaGraphBinding"/> for a CUDA graph on a GPU); a model with
/// string or non-tensor inputs or outputs runs without it.
/// </summary>
public sealed class OnnxRuntimeModel : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly IBatchBinding? _binding;

    /// <summary>
    /// Creates the session; throws <see cref="OnnxRuntimeException"/> with ONNX Runtime's message when it cannot, and
    /// <see cref="ModelUnavailableException"/> when <c>cuda.cuda_graph</c> is set on a model without fixed shapes (on any device).
    /// <paramref name="maxBatchSize"/> above 0 declares every output's dynamic first dimension the batch's (Triton's convention),
    /// so those outputs go into buffers of this instance sized from the batch.
    /// </summary>
    public OnnxRuntimeModel(string onnxPath, DeviceDescriptor device, int intraOpThreads = 0, CudaProviderSettings? cuda = null, int maxBatchSize = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        _session = OrtSessions.Open(onnxPath, device, intraOpThreads, cuda);
        try
        {
            if (cuda?.CudaGraph == true)
            {
                CudaGraphBinding.RequireFixedShapes(_session);
            }

            _binding = cuda?.CudaGraph == true && device.Kind == "cuda"
                ? new CudaGraphBinding(_session, device.Index)
                : HostBufferBinding.TryCreate(_session, maxBatchSize > 0);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        WeightBytes = new FileInfo(onnxPath).Length;
    }

    /// <inheritdoc />
    public long WeightBytes { get; }

    /// <summary>Whether batches run through IO binding (false for models with string or non-tensor inputs or outputs).</summary>
    public bool BindsInputsAndOutputs => _binding is not null;

    /// <inheritdoc />
    public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames) =>
        _binding is null ? RunUnbound(requests, outputNames) : RunBound(_binding, requests, outputNames);

    /// <inheritdoc />
    public void Dispose()
    {
        _binding?.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    private BatchResult RunBound(IBatchBinding binding, IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            binding.Bind(requests, outputNames);
            var bound = Stopwatch.GetTimestamp();
            var outputs = binding.Run(_runOptions);
            return Split(requests, outputNames, outputs, start, bound, Stopwatch.GetTimestamp());
        }
        finally
        {
            binding.Clear();
        }
    }

    private BatchResult RunUnbound(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
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
            return Split(requests, outputNames, outputs, start, merged, Stopwatch.GetTimestamp());
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

    /// <summary>Splits the batch's outputs into each request's, with the phase timings.</summary>
    private static BatchResult Split(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames, IReadOnlyList<OrtValue> outputs, long start,
        long merged, long ran)
    {
        var results = new TensorData[requests.Count][];
        var rows = new int[requests.Count];
        for (var r = 0; r < requests.Count; r++)
        {
            results[r] = new TensorData[outputNames.Count];
            rows[r] = requests[r][0].Shape.Length > 0 ? (int)requests[r][0].Shape[0] : 1;
        }

        for (var index = 0; index < outputs.Count; index++)
        {
            BatchTensors.Split(outputNames[index], outputs[index], rows, results, index);
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

    private static long Nanoseconds(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalNanoseconds;
}
