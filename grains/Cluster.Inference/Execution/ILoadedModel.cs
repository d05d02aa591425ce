using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Execution;

/// <summary>
/// A model version loaded on a device. Its run methods block: call them through its instance's <see cref="DeviceExecutor"/>, never on a
/// grain turn.
/// </summary>
public interface ILoadedModel : IDisposable
{
    /// <summary>Bytes of weights the model holds on its device (its ONNX file size).</summary>
    long WeightBytes { get; }

    /// <summary>
    /// Runs several validated requests of equal shape as one batch (each request's inputs in model
    /// order) and returns each request's outputs, named as asked, plus the phase timings.
    /// </summary>
    BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames);
}

/// <summary>Conveniences over <see cref="ILoadedModel"/>.</summary>
public static class LoadedModelExtensions
{
    /// <summary>Runs one request (a batch of one) and returns its outputs.</summary>
    public static TensorData[] Run(this ILoadedModel model, TensorData[] inputs, IReadOnlyList<string> outputNames) =>
        model.RunBatch([inputs], outputNames).Outputs[0];
}
