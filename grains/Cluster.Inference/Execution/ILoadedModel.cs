using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Execution;

/// <summary>A model version loaded on a device. <see cref="Run"/> blocks: call it on the device's thread.</summary>
public interface ILoadedModel : IDisposable
{
    /// <summary>Bytes of weights the model holds on its device (its ONNX file size).</summary>
    long WeightBytes { get; }

    /// <summary>Runs the model on validated inputs and returns the named outputs, in the order asked.</summary>
    TensorData[] Run(IReadOnlyList<TensorData> inputs, IReadOnlyList<string> outputNames);
}
