using Cluster.Contracts.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Execution;

/// <summary>One session instance's ONNX Runtime IO binding: binds a batch, runs it, and releases what the run held.</summary>
internal interface IBatchBinding : IDisposable
{
    /// <summary>Binds the batch's inputs (each request's inputs in model order) and the outputs asked for.</summary>
    void Bind(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames);

    /// <summary>Runs the bound batch; returns the outputs asked for, in that order, valid until <see cref="Clear"/>.</summary>
    IReadOnlyList<OrtValue> Run(RunOptions runOptions);

    /// <summary>
    /// Releases the batch's inputs and results (its outputs may stay bound for the next batch); call after every <see cref="Bind"/>, even a
    /// failed one.
    /// </summary>
    void Clear();
}
