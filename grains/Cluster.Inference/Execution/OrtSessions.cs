using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Inference.Devices;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>Opens ONNX Runtime sessions the way every model on a device is served.</summary>
public static class OrtSessions
{
    /// <summary>
    /// A session on <paramref name="device"/>: CUDA provider with its id on a GPU, CPU provider on <c>cpu:*</c>;
    /// <paramref name="intraOpThreads"/> threads per operator (0: one per core); <paramref name="cuda"/> configures the CUDA
    /// provider, and settings ONNX Runtime rejects fail the load naming them.
    /// </summary>
    public static InferenceSession Open(string onnxPath, DeviceDescriptor device, int intraOpThreads = 0, CudaProviderSettings? cuda = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = intraOpThreads };

        // Idle intra-op threads would spin between runs, taking the cores the batcher and Orleans need to form the next batch.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (device.Kind == "cuda")
        {
            var providerOptions = (cuda ?? new CudaProviderSettings()).ProviderOptions(device.Index);
            using var cudaOptions = new OrtCUDAProviderOptions();
            try
            {
                cudaOptions.UpdateOptions(providerOptions);
            }
            catch (OnnxRuntimeException e)
            {
                throw new ModelUnavailableException("The CUDA provider rejected the " +
                    $"settings {string.Join(", ", providerOptions.Select(o => $"{o.Key}={o.Value}"))}: {e.Message}");
            }

            options.AppendExecutionProvider_CUDA(cudaOptions);
        }

        return new InferenceSession(onnxPath, options);
    }
}
