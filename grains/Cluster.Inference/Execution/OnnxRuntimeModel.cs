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
    public OnnxRuntimeModel(string onnxPath, DeviceDescriptor device)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (device.Kind == "cuda")
        {
            options.AppendExecutionProvider_CUDA(device.Index);
        }

        _session = new InferenceSession(onnxPath, options);
        WeightBytes = new FileInfo(onnxPath).Length;
    }

    /// <inheritdoc />
    public long WeightBytes { get; }

    /// <inheritdoc />
    public TensorData[] Run(IReadOnlyList<TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        var names = new string[inputs.Count];
        var values = new OrtValue[inputs.Count];
        var pins = new System.Buffers.MemoryHandle[inputs.Count];
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                names[i] = inputs[i].Name;
                values[i] = OrtTensorBridge.ToOrtValue(inputs[i], out pins[i]);
            }

            using var outputs = _session.Run(_runOptions, names, values, outputNames);
            var results = new TensorData[outputNames.Count];
            var index = 0;
            foreach (var output in outputs)
            {
                results[index] = OrtTensorBridge.FromOrtValue(outputNames[index], output);
                index++;
            }

            return results;
        }
        finally
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
