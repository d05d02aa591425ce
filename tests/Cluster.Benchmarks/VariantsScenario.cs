using System.Diagnostics;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Onnx;
using Cluster.Inference.Repository;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- variants</c>: each demo model with MatMul/Gemm weights as FP32, INT8 and FP16 on the CPU, through the sessions a
/// CPU replica opens: samples/s at batch 1 and 32 (one session, back-to-back runs for <c>--seconds</c> each after
/// <c>--warmup-seconds</c>), and each variant's largest absolute difference and top-1 agreement against FP32 on 1,024
/// random samples. Writes artifacts/bench/variants.json.
/// </summary>
public sealed class VariantsScenario : IBenchScenario
{
    /// <summary>INT8 samples/s over FP32's at batch 32 on the wide MLP.</summary>
    public const double TargetInt8Speedup = 1.5;

    /// <summary>INT8's top-1 agreement with FP32 on the wide MLP.</summary>
    public const double TargetInt8Agreement = 0.99;

    private static readonly int[] BatchSizes = [1, 32];

    public string Name => "variants";

    public string Summary => "FP32 vs INT8 vs FP16 of the demo models on the CPU (samples/s at batch 1 and 32, accuracy against FP32)";

    public Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var folder = Directory.CreateTempSubdirectory("bench-variants-").FullName;
        try
        {
            DemoModels.WriteAll(folder);
            DemoModels.WriteVariants(folder);
            var rows = new List<VariantRow>();
            foreach (var model in DemoModels.WithVariants)
            {
                var version = Path.Combine(folder, model, "1");
                foreach (var variant in ModelVariants.All)
                {
                    var file = Path.Combine(version, ModelVariants.FileName(variant));
                    var accuracy = VariantAccuracy.Measure(Path.Combine(version, ModelRepository.ModelFileName), file, samples: 1024);
                    var speeds = BatchSizes.Select(batch => SamplesPerSecond(file, batch, options)).ToArray();
                    var bytes = new FileInfo(file).Length;
                    rows.Add(new VariantRow(model, variant, speeds[0], speeds[1], accuracy.MaxAbsDifference, accuracy.Top1Agreement, bytes));
                    Console.WriteLine($"{model} {variant}: {speeds[0]:F0} / {speeds[1]:F0} samples/s");
                }
            }

            Report(rows, repositoryRoot);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static void Report(List<VariantRow> rows, string repositoryRoot)
    {
        double Speed(string variant) => rows.Single(r => r.Model == "wide_mlp" && r.Variant == variant).Batch32SamplesPerSecond;
        var speedup = Speed(ModelVariants.Int8) / Speed(ModelVariants.Fp32);
        var agreement = rows.Single(r => r.Model == "wide_mlp" && r.Variant == ModelVariants.Int8).Top1Agreement;
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["model / variant", "batch 1 samples/s", "batch 32 samples/s", "max abs diff", "top-1 agreement", "file bytes"],
            rows.Select(r => (IReadOnlyList<string>)
            [
                $"{r.Model} {r.Variant}", BenchReport.Number(r.Batch1SamplesPerSecond), BenchReport.Number(r.Batch32SamplesPerSecond),
                r.MaxAbsDifference.ToString("G3", System.Globalization.CultureInfo.InvariantCulture), BenchReport.Number(r.Top1Agreement, 4),
                BenchReport.Number(r.FileBytes),
            ])));
        Console.WriteLine($"wide_mlp INT8 ÷ FP32 at batch 32: {speedup:F2} (target ≥ {TargetInt8Speedup}), "
            + $"top-1 agreement {agreement:F4} (target ≥ {TargetInt8Agreement})");
        var path = BenchReport.WriteJson(repositoryRoot, "variants.json", new
        {
            models = rows.Select(r => new
            {
                model = r.Model,
                variant = r.Variant,
                batch1_samples_per_s = r.Batch1SamplesPerSecond,
                batch32_samples_per_s = r.Batch32SamplesPerSecond,
                max_abs_difference = r.MaxAbsDifference,
                top1_agreement = r.Top1Agreement,
                file_bytes = r.FileBytes,
            }),
            wide_mlp_int8_speedup_batch32 = speedup,
            wide_mlp_int8_top1_agreement = agreement,
            target_int8_speedup = TargetInt8Speedup,
            target_int8_top1_agreement = TargetInt8Agreement,
            met = speedup >= TargetInt8Speedup && agreement >= TargetInt8Agreement,
            cores = Environment.ProcessorCount,
            load_average = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        });
        Console.WriteLine($"wrote {path}");
    }

    /// <summary>Back-to-back runs of one batch on one CPU session, as a replica with one instance runs them.</summary>
    private static double SamplesPerSecond(string file, int batch, BenchOptions options)
    {
        using var session = OrtSessions.Open(file, DeviceDescriptor.Cpu);
        var (name, metadata) = session.InputMetadata.Single();
        var shape = metadata.Dimensions.Select((d, i) => i == 0 ? batch : d).ToArray();
        var input = new DenseTensor<float>(new DeterministicWeights(3).Uniform(shape.Aggregate(1, (a, b) => a * b), 1f), shape);
        NamedOnnxValue[] inputs = [NamedOnnxValue.CreateFromTensor(name, input)];
        RunFor(session, inputs, options.Warmup);
        return RunFor(session, inputs, options.Measure) * batch / options.Measure.TotalSeconds;
    }

    private static long RunFor(InferenceSession session, NamedOnnxValue[] inputs, TimeSpan duration)
    {
        var runs = 0L;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            using var outputs = session.Run(inputs);
            runs++;
        }

        return runs;
    }

    private sealed record VariantRow(
        string Model,
        string Variant,
        double Batch1SamplesPerSecond,
        double Batch32SamplesPerSecond,
        double MaxAbsDifference,
        double Top1Agreement,
        long FileBytes);
}
