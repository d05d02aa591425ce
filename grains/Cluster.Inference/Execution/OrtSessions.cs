using Cluster.Inference.Devices;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>Opens ONNX Runtime sessions the way every model on a device is served.</summary>
public static class OrtSessions
{
    /// <summary>
    /// A session on <paramref name="device"/>: CUDA provider with its id on a GPU, CPU provider on <c>cpu:*</c>;
    /// <paramref name="intraOpThreads"/> threads per operator (0: one per core).
    /// </summary>
    public static InferenceSession Open(string onnxPath, DeviceDescriptor device, int intraOpThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = intraOpThreads };

        // Idle intra-op threads would spin between runs, taking the cores the batcher and Orleans need to form the next batch.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (device.Kind == "cuda")
        {
            options.AppendExecutionProvider_CUDA(device.Index);
        }

        return new InferenceSession(onnxPath, options);
    }
}
