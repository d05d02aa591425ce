using System.Buffers;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>
/// Runs a model ONNX Runtime captures as a CUDA graph (<c>cuda.cuda_graph</c>): the graph is recorded on the first runs and then
/// replayed with the same device addresses, so every input and output is a device tensor of the model's fixed shape, allocated
/// and bound once; each run copies the request's inputs into them from host memory and the outputs asked for back, one copy
/// each way.
/// </summary>
internal sealed class CudaGraphBinding : IBatchBinding
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly OrtMemoryInfo _deviceMemory;
    private readonly OrtAllocator _allocator;
    private readonly OrtValue[] _deviceInputs;
    private readonly Dictionary<string, (OrtValue Device, PinnedHostBuffer Host)> _outputs;
    private readonly List<OrtValue> _hostValues = [];
    private readonly List<MemoryHandle> _pins = [];
    private readonly List<OrtValue> _results = [];
    private IReadOnlyList<string> _asked = [];

    /// <summary>Allocates the device tensors on CUDA device <paramref name="deviceIndex"/> and binds them.</summary>
    public CudaGraphBinding(InferenceSession session, int deviceIndex)
    {
        RequireFixedShapes(session);
        _session = session;
        _binding = session.CreateIoBinding();
        _deviceMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceIndex, OrtMemType.Default);
        _allocator = new OrtAllocator(session, _deviceMemory);
        _deviceInputs = [.. session.InputMetadata.Select(i => Allocate(i.Value))];
        _outputs = session.OutputMetadata.ToDictionary(o => o.Key, o => (Allocate(o.Value), new PinnedHostBuffer()), StringComparer.Ordinal);
        foreach (var (name, value) in session.InputMetadata.Keys.Zip(_deviceInputs))
        {
            _binding.BindInput(name, value);
        }

        foreach (var (name, output) in _outputs)
        {
            _binding.BindOutput(name, output.Device);
        }

        ProbeCopies();
    }

    /// <summary>
    /// Refuses a model a CUDA graph cannot replay: every input and output needs a fixed shape. Checked on every device, so the
    /// setting fails the same way on a CPU silo as on a GPU one.
    /// </summary>
    public static void RequireFixedShapes(InferenceSession session)
    {
        foreach (var (kind, nodes) in new[] { ("input", session.InputMetadata), ("output", session.OutputMetadata) })
        {
            foreach (var (name, node) in nodes)
            {
                if (!node.IsTensor || node.Dimensions.Any(d => d <= 0))
                {
                    throw new ModelUnavailableException($"cuda.cuda_graph needs fixed input and output shapes (a CUDA graph replays one shape), but {kind} " +
                        $"'{name}' has shape [{string.Join(", ", node.Dimensions)}].");
                }
            }
        }
    }

    /// <summary>
    /// Registers the CUDA provider's data transfer and copies zeros into every bound input once, so an ONNX Runtime build that
    /// cannot copy between host and device buffers here fails the load naming the setting rather than every request.
    /// </summary>
    private void ProbeCopies()
    {
        var unregistered = CudaProviderLibrary.EnsureRegistered();
        var zeros = new List<OrtValue>();
        try
        {
            foreach (var device in _deviceInputs)
            {
                var info = device.GetTensorTypeAndShape();
                var bytes = checked((int)(info.ElementCount * OrtElementTypes.FromOrt(info.ElementDataType).SizeOf()));
                var host = new PinnedHostBuffer();
                host.Take(bytes).Clear();
                zeros.Add(host.Tensor(info.ElementDataType, info.Shape, bytes));
            }

            OrtEnv.Instance().CopyTensors(zeros, _deviceInputs, null);
        }
        catch (OnnxRuntimeException e)
        {
            Dispose();
            throw new ModelUnavailableException($"cuda.cuda_graph: ONNX Runtime cannot copy inputs into the CUDA graph's device buffers on this " +
                $"machine ({e.Message}{(unregistered is null ? "" : "; " + unregistered)}); set cuda.cuda_graph to false for this model.");
        }
        finally
        {
            zeros.ForEach(z => z.Dispose());
        }
    }

    /// <inheritdoc />
    public void Bind(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        // A fixed-shape model is never batched (max_batch_size 0), and its validated inputs have the bound shapes.
        foreach (var input in requests[0])
        {
            _hostValues.Add(OrtTensorBridge.ToOrtValue(input, out var pin));
            _pins.Add(pin);
        }

        OrtEnv.Instance().CopyTensors(_hostValues, _deviceInputs, null);
        _asked = outputNames;
    }

    /// <inheritdoc />
    public IReadOnlyList<OrtValue> Run(RunOptions runOptions)
    {
        _session.RunWithBinding(runOptions, _binding);
        var devices = new List<OrtValue>(_asked.Count);
        foreach (var name in _asked)
        {
            var (device, host) = _outputs[name];
            var info = device.GetTensorTypeAndShape();
            var bytes = checked((int)(info.ElementCount * OrtElementTypes.FromOrt(info.ElementDataType).SizeOf()));
            devices.Add(device);
            _results.Add(host.Tensor(info.ElementDataType, info.Shape, bytes));
        }

        OrtEnv.Instance().CopyTensors(devices, _results, null);
        return _results;
    }

    /// <inheritdoc />
    public void Clear()
    {
        foreach (var value in _hostValues.Concat(_results))
        {
            value.Dispose();
        }

        _hostValues.Clear();
        _results.Clear();
        _pins.ForEach(p => p.Dispose());
        _pins.Clear();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Clear();
        _binding.Dispose();
        foreach (var value in _deviceInputs.Concat(_outputs.Values.Select(o => o.Device)))
        {
            value.Dispose();
        }

        _allocator.Dispose();
        _deviceMemory.Dispose();
    }

    private OrtValue Allocate(NodeMetadata node) =>
        OrtValue.CreateAllocatedTensorValue(_allocator, node.ElementDataType, [.. node.Dimensions.Select(d => (long)d)]);
}
