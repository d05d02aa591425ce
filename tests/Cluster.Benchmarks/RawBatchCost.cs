using System.Diagnostics;
using System.Text.Json.Serialization;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Execution;

namespace Cluster.Benchmarks;

/// <summary>
/// ONNX Runtime's own CPU per sample at several batch sizes: the session alone in a tight loop, the process's CPU time
/// over the samples it ran. What a server's batch size is worth before anything of the server is counted.
/// </summary>
public static class RawBatchCost
{
    /// <summary>The batch sizes measured.</summary>
    public static readonly int[] BatchSizes = [1, 8, 16, 24, 32, 64];

    /// <summary>Runs <paramref name="model"/> on <paramref name="inputFor"/>'s tensors for <paramref name="each"/> at every batch size.</summary>
    public static IReadOnlyList<BatchCost> Measure(OnnxRuntimeModel model, Func<int, TensorData[]> inputFor, string[] outputs, TimeSpan each)
    {
        var costs = new List<BatchCost>();
        using var process = Process.GetCurrentProcess();
        foreach (var size in BatchSizes)
        {
            var inputs = inputFor(size);
            model.Run(inputs, outputs);
            var cpu = ProcessCounters.CpuTime(process);
            var clock = Stopwatch.StartNew();
            var runs = 0;
            while (clock.Elapsed < each)
            {
                model.Run(inputs, outputs);
                runs++;
            }

            costs.Add(new BatchCost(size, Math.Round((ProcessCounters.CpuTime(process) - cpu).TotalMicroseconds / ((double)runs * size), 1)));
        }

        return costs;
    }
}

/// <summary>ONNX Runtime's CPU per sample at one batch size.</summary>
public sealed record BatchCost(
    [property: JsonPropertyName("batch_size")] int BatchSize,
    [property: JsonPropertyName("cpu_us_per_sample")] double CpuMicrosecondsPerSample);
