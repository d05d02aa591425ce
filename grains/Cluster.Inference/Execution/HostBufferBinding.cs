using System.Buffers;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Cluster.Inference.Execution;

/// <summary>
/// Binds a batch through ONNX Runtime IO binding from host memory: a lone request's input bytes pinned where they are, several
/// requests' copied once into this instance's pinned buffers; outputs whose shape the batch size determines (every dimension fixed
/// but the first, which is the batch's: a batched model's, or named as the first input's) go into this instance's pinned buffers,
/// the others into memory ONNX Runtime allocates on the host. On CUDA, ONNX Runtime copies each bound input to the device once
/// and each output back once. Models with string or non-tensor inputs or outputs are not bound (see
/// <see cref="TryCreate"/>).
/// </summary>
internal sealed class HostBufferBinding : IBatchBinding
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly PinnedHostBuffer[] _inputBuffers;
    private readonly Dictionary<string, OutputPlan> _outputs;
    private readonly List<OrtValue> _inputValues = [];
    private readonly List<OrtValue> _outputValues = [];
    private readonly List<MemoryHandle> _pins = [];
    private IDisposableReadOnlyCollection<OrtValue>? _results;

    /// <summary>The batch size and output names the outputs are bound for (-1 and null when none are).</summary>
    private long _outputRows = -1;
    private IReadOnlyList<string>? _outputNames;

    private HostBufferBinding(InferenceSession session, bool batched)
    {
        _session = session;
        _binding = session.CreateIoBinding();
        _inputBuffers = [.. session.InputMetadata.Select(_ => new PinnedHostBuffer())];
        var batchSymbol = BatchSymbol(session);
        _outputs = session.OutputMetadata.ToDictionary(o => o.Key, o => OutputPlan.For(o.Value, batchSymbol, batched), StringComparer.Ordinal);
    }

    /// <summary>
    /// A binding for <paramref name="session"/>; null when an input or output is a string or not a tensor (run those without binding).
    /// <paramref name="batched"/> (the model's max_batch_size is above 0): every output's dynamic first dimension is the batch's.
    /// </summary>
    public static HostBufferBinding? TryCreate(InferenceSession session, bool batched) =>
        session.InputMetadata.Values.Concat(session.OutputMetadata.Values).All(m => m.IsTensor && m.ElementDataType != OrtType.String)
            ? new HostBufferBinding(session, batched)
            : null;

    /// <inheritdoc />
    /// <remarks>
    /// Outputs stay bound after a batch: the next batch of as many rows, asking for the same outputs, runs into them as they are (a lone
    /// request after another binds only its inputs).
    /// </remarks>
    public void Bind(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        var first = requests[0];
        long rows = 1;
        for (var i = 0; i < first.Length; i++)
        {
            OrtValue value;
            long[] shape;
            if (requests.Count == 1)
            {
                value = OrtTensorBridge.ToOrtValue(first[i], out var pin);
                _pins.Add(pin);
                shape = first[i].Shape;
            }
            else
            {
                (shape, var bytes) = BatchTensors.MergedShape(requests, i);
                value = _inputBuffers[i].Tensor(first[i].ElementType.ToOrt(), shape, bytes);
                BatchTensors.CopyRows(requests, i, _inputBuffers[i].Take(bytes));
            }

            _inputValues.Add(value);
            _binding.BindInput(first[i].Name, value);
            if (i == 0)
            {
                rows = shape.Length > 0 ? shape[0] : 1;
            }
        }

        if (rows != _outputRows || !ReferenceEquals(outputNames, _outputNames))
        {
            BindOutputs(rows, outputNames);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<OrtValue> Run(RunOptions runOptions)
    {
        _session.RunWithBinding(runOptions, _binding);
        _results = _binding.GetOutputValues();
        return _results;
    }

    /// <inheritdoc />
    public void Clear()
    {
        _binding.ClearBoundInputs();
        _results?.Dispose();
        _results = null;
        DisposeAll(_inputValues);
        DisposeAll(_pins);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Clear();
        ClearOutputs();
        _binding.Dispose();
    }

    /// <summary>
    /// Binds the outputs of a batch of <paramref name="rows"/>, in place of those bound before. They are kept for the next batch only when
    /// all are this instance's buffers: an output left to ONNX Runtime stays bound to what it allocated, in the last batch's shape.
    /// </summary>
    private void BindOutputs(long rows, IReadOnlyList<string> outputNames)
    {
        ClearOutputs();
        var reusable = true;
        foreach (var name in outputNames)
        {
            // An unknown name is left to ONNX Runtime, which refuses it as a plain run does.
            if (_outputs.TryGetValue(name, out var plan) && plan.Shape(rows) is { } shape)
            {
                var value = plan.Buffer.Tensor(plan.Type, shape, checked((int)(TensorShape.ElementCount(shape) * plan.ElementSize)));
                _outputValues.Add(value);
                _binding.BindOutput(name, value);
            }
            else
            {
                _binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
                reusable = false;
            }
        }

        if (reusable)
        {
            (_outputRows, _outputNames) = (rows, outputNames);
        }
    }

    private void ClearOutputs()
    {
        _binding.ClearBoundOutputs();
        DisposeAll(_outputValues);
        (_outputRows, _outputNames) = (-1, null);
    }

    private static void DisposeAll<T>(List<T> items)
        where T : IDisposable
    {
        items.ForEach(item => item.Dispose());
        items.Clear();
    }

    /// <summary>The name of the first input's first dimension when it is symbolic: the batch dimension outputs may share.</summary>
    private static string? BatchSymbol(InferenceSession session)
    {
        var first = session.InputMetadata.Values.FirstOrDefault();
        return first is { Dimensions.Length: > 0 } && first.Dimensions[0] < 0 && first.SymbolicDimensions[0] is { Length: > 0 } symbol ? symbol : null;
    }

    /// <summary>
    /// How an output gets memory: <see cref="Dimensions"/> known (all fixed, or the first the batch's symbol) binds it to
    /// <see cref="Buffer"/>; null lets ONNX Runtime allocate it.
    /// </summary>
    private sealed record OutputPlan(OrtType Type, int ElementSize, long[]? Dimensions, bool BatchFirst, PinnedHostBuffer Buffer)
    {
        public static OutputPlan For(NodeMetadata output, string? batchSymbol, bool batched)
        {
            var dimensions = output.Dimensions.Select(d => (long)d).ToArray();
            var batchFirst = dimensions.Length > 0 && dimensions[0] < 0
                && (batched || (batchSymbol is not null && output.SymbolicDimensions[0] == batchSymbol));
            var known = dimensions.Skip(batchFirst ? 1 : 0).All(d => d > 0);
            return new OutputPlan(output.ElementDataType, OrtElementTypes.FromOrt(output.ElementDataType).SizeOf(), known ? dimensions : null, batchFirst,
                new PinnedHostBuffer());
        }

        /// <summary>The output's shape for a batch of <paramref name="rows"/>; null when ONNX Runtime must allocate it.</summary>
        public long[]? Shape(long rows)
        {
            if (Dimensions is null || !BatchFirst)
            {
                return Dimensions;
            }

            var shape = (long[])Dimensions.Clone();
            shape[0] = rows;
            return shape;
        }
    }
}
