using BenchmarkDotNet.Attributes;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Benchmarks;

/// <summary>
/// Allocation of the batch hot path per request: 64 single-row requests of wide_mlp's input
/// ([1,256] FP32) joined into one batch tensor, and a [64,10] FP32 output split back into 64 tensors.
/// </summary>
[MemoryDiagnoser]
public class BatchAssemblyBenchmarks
{
    /// <summary>Requests per batch.</summary>
    public const int Requests = 64;

    /// <summary>Bytes of one request's output tensor data (10 FP32 values).</summary>
    public const int OutputBytesPerRequest = 10 * sizeof(float);

    private readonly int[] _rows = Enumerable.Repeat(1, Requests).ToArray();
    private TensorData[][] _requests = [];
    private OrtValue _output = null!;
    private TensorData[][] _split = [];

    [GlobalSetup]
    public void Setup()
    {
        _requests = [.. Enumerable.Range(0, Requests).Select(r => new[] { TensorData.FromFloat32("input", new float[256], 1, 256) })];
        _output = OrtValue.CreateTensorValueFromMemory(new float[Requests * 10], [Requests, 10]);
        _split = [.. Enumerable.Range(0, Requests).Select(_ => new TensorData[1])];
    }

    [GlobalCleanup]
    public void Cleanup() => _output.Dispose();

    /// <summary>Joins the 64 requests' inputs into one pooled, pinned batch tensor.</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public void Assemble()
    {
        using var merged = BatchTensors.Merge(_requests, 0);
    }

    /// <summary>Splits the batch output into one tensor per request (their data is the tensor bytes).</summary>
    [Benchmark(OperationsPerInvoke = Requests)]
    public void Split() => BatchTensors.Split("logits", _output, _rows, _split, 0);
}
