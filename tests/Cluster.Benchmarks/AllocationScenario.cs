using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- alloc</c>: BenchmarkDotNet with the memory diagnoser on batch assembly and split, reporting
/// bytes allocated per request beyond the request's own output tensor bytes. Writes artifacts/bench/alloc.json.
/// </summary>
public sealed class AllocationScenario : IBenchScenario
{
    /// <summary>The budget per request beyond tensor bytes.</summary>
    public const int BudgetBytes = 1024;

    public string Name => "alloc";

    public string Summary => "bytes allocated per request in batch assembly and split (BenchmarkDotNet, in-process)";

    public Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<BatchAssemblyBenchmarks>(config);
        var perRequest = new Dictionary<string, double>();
        foreach (var report in summary.Reports)
        {
            var bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;
            perRequest[report.BenchmarkCase.Descriptor.WorkloadMethod.Name] = bytes;
        }

        var assemble = perRequest.GetValueOrDefault(nameof(BatchAssemblyBenchmarks.Assemble));
        var split = perRequest.GetValueOrDefault(nameof(BatchAssemblyBenchmarks.Split));
        var beyondTensor = assemble + split - BatchAssemblyBenchmarks.OutputBytesPerRequest;
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "bytes/request"],
            [
                ["assemble (64 requests into one batch)", BenchReport.Number(assemble, 1)],
                ["split (one [64,10] output into 64)", BenchReport.Number(split, 1)],
                [$"beyond the {BatchAssemblyBenchmarks.OutputBytesPerRequest} output tensor bytes", BenchReport.Number(beyondTensor, 1)],
                ["budget", BenchReport.Number(BudgetBytes)],
            ]));
        var path = BenchReport.WriteJson(repositoryRoot, "alloc.json", new
        {
            assemble_bytes_per_request = assemble,
            split_bytes_per_request = split,
            output_tensor_bytes_per_request = BatchAssemblyBenchmarks.OutputBytesPerRequest,
            beyond_tensor_bytes_per_request = beyondTensor,
            budget_bytes_per_request = BudgetBytes,
            cores = Environment.ProcessorCount,
        });
        Console.WriteLine($"wrote {path}");
        return Task.CompletedTask;
    }
}
