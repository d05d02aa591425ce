using System.Globalization;
using Cluster.Client.Protocol;
using Cluster.Edge.Tests.Fuzzing;
using Cluster.Edge.Tests.Overload;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- reliability</c>: three times a model's capacity through the gRPC edge (a simulated device taking
/// 20 ms per batch of up to 4, a queue of 8) for 30 s (<c>--seconds</c> overrides), every request accounted
/// for by its id, then 10,000 fuzz cases against the same silo, then a SIGKILL of one of three silo processes
/// under load (<see cref="SiloKillRecovery"/>). Writes artifacts/bench/reliability.json.
/// </summary>
public sealed class ReliabilityScenario : IBenchScenario
{
    private const string Model = "slow_sim";
    private const int BatchMilliseconds = 20;
    private const int MaxBatchSize = 4;
    private const int OfferedPerSecond = 3 * MaxBatchSize * 1000 / BatchMilliseconds;
    private const int FuzzCases = 10_000;
    private const int FuzzSeed = 20261129;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DefaultOverload = TimeSpan.FromSeconds(30);

    public string Name => "reliability";

    public string Summary => "3x overload for 30 s with every request accounted for, 10,000 fuzz cases, recovery from a killed silo; writes reliability.json";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var models = Path.Combine(repositoryRoot, "deploy", "models");
        await using var cluster = await BenchCluster.StartAsync(
            repository =>
            {
                foreach (var (model, _) in FuzzModels.Served)
                {
                    ModelCopies.Copy(models, model, repository);
                }

                ModelCopies.Copy(models, "tiny_classifier", repository, Model, $$"""
                    {"max_batch_size": {{MaxBatchSize}}, "device_kinds": ["sim"], "dynamic_batching": {"default_queue_policy": {"max_queue_size": 8} } }
                    """);
            },
            silos:
            [
                new Dictionary<string, string?>
                {
                    ["Cluster:SiloName"] = "bench",
                    ["Cluster:Devices:Simulated:0:Profile"] = "slow",
                    ["Cluster:Devices:Simulated:0:FixedLatencyMicroseconds"] = (BatchMilliseconds * 1000).ToString(CultureInfo.InvariantCulture),
                    ["Cluster:Devices:Simulated:0:PerItemMicroseconds"] = "0",
                },
            ]);
        using var channel = GrpcChannel.ForAddress(cluster.GrpcAddress);
        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddress) };
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var overload = options.SecondsGiven ? options.Measure : DefaultOverload;
        Console.WriteLine($"reliability: {OfferedPerSecond} requests/s for {overload.TotalSeconds:0.##} s at a capacity of {OfferedPerSecond / 3}/s, " +
            $"then {FuzzCases:N0} fuzz cases");
        var executedBefore = await ExecutedAsync(grpc);
        var peakWorkingSet = Environment.WorkingSet;
        using var stopSampling = new CancellationTokenSource();
        var sampling = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
                await Task.Delay(50);
            }
        });
        var outcomes = await OpenLoop.RunAsync(OfferedPerSecond, overload, n => SendAsync(grpc, n));
        await stopSampling.CancelAsync();
        await sampling;
        var executed = await ExecutedAsync(grpc) - executedBefore;

        var fuzz = await new EdgeFuzzer(channel, http, apiKey: "none").RunAsync(FuzzCases, FuzzSeed);
        Console.WriteLine("  killing one of three silo processes under load");
        var kill = await SiloKillRecovery.MeasureAsync(repositoryRoot);
        var succeeded = outcomes.Count(o => o == CallOutcome.Succeeded);
        var results = new ReliabilityResults
        {
            Sent = outcomes.Length,
            Succeeded = succeeded,
            FailedRetriable = outcomes.Count(o => o == CallOutcome.Retriable),
            FailedFinal = outcomes.Count(o => o == CallOutcome.Final),
            Lost = outcomes.Count(o => o == CallOutcome.Lost),

            // An answer carrying another request's id, or more executions than answers, would mean a request ran twice.
            Duplicated = outcomes.Count(o => o == CallOutcome.WrongId) + (int)Math.Max(0, executed - succeeded),
            PeakRssMb = Math.Round(peakWorkingSet / (1024.0 * 1024.0), 1),
            FuzzCases = fuzz.Cases,
            Crashes = fuzz.Crashes,
            FuzzInternalErrors = fuzz.InternalErrors,
            FuzzHangs = fuzz.Hangs,
            FuzzGcHeapGrowthMb = fuzz.GcHeapGrowthMb,
            RecoverySeconds = kill.RecoverySeconds,
            SiloKill = kill,
            Seconds = overload.TotalSeconds,
        };
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "value"],
            [
                ["sent", BenchReport.Number(results.Sent)],
                ["succeeded", BenchReport.Number(results.Succeeded)],
                ["failed, safe to retry (queue full)", BenchReport.Number(results.FailedRetriable)],
                ["failed, final", BenchReport.Number(results.FailedFinal)],
                ["lost (no answer in 10 s)", BenchReport.Number(results.Lost)],
                ["duplicated", BenchReport.Number(results.Duplicated)],
                ["peak working set under overload (MiB)", BenchReport.Number(results.PeakRssMb, 1)],
                ["fuzz cases", BenchReport.Number(results.FuzzCases)],
                ["crashes / internal errors / hangs", $"{results.Crashes} / {results.FuzzInternalErrors} / {results.FuzzHangs}"],
                ["managed heap growth over the fuzz run (MiB)", BenchReport.Number(results.FuzzGcHeapGrowthMb, 1)],
                ["silo kill: last failure before 3 s of successes (s)", results.RecoverySeconds is { } seconds ? BenchReport.Number(seconds, 2)
                    : "not within 20 s"],
                .. SiloKillRecovery.Rows(kill),
            ]));
        SiloKillRecovery.PrintErrors(kill);
        foreach (var failure in fuzz.Failures)
        {
            Console.WriteLine($"  fuzz: {failure}");
        }

        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "reliability.json", results)}");
    }

    private static async Task<CallOutcome> SendAsync(GRPCInferenceService.GRPCInferenceServiceClient grpc, int n)
    {
        var request = GrpcFuzzCases.Valid(Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1);
        request.Id = $"r{n}";
        using var timeout = new CancellationTokenSource(RequestTimeout);
        try
        {
            var response = await grpc.ModelInferAsync(request, cancellationToken: timeout.Token);
            return response.Id == request.Id ? CallOutcome.Succeeded : CallOutcome.WrongId;
        }
        catch (RpcException) when (timeout.IsCancellationRequested)
        {
            return CallOutcome.Lost;
        }
        catch (RpcException e)
        {
            return e.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable ? CallOutcome.Retriable : CallOutcome.Final;
        }
    }

    /// <summary>Requests the model's replica answered successfully, by its own statistics.</summary>
    private static async Task<long> ExecutedAsync(GRPCInferenceService.GRPCInferenceServiceClient grpc) =>
        (long)(await grpc.ModelStatisticsAsync(new ModelStatisticsRequest { Name = Model })).ModelStats.Sum(s => (decimal)s.InferenceStats.Success.Count);
}
