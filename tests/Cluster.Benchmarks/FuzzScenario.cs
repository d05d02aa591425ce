using System.Diagnostics;
using System.Text.Json.Serialization;
using Cluster.Edge.Tests.Fuzzing;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- fuzz</c>: 100,000 seed-fixed hostile cases (<c>--cases</c> overrides) against one silo's gRPC and REST edges,
/// every surface the CI fuzz test covers (tensor inference, streams, OpenAI's <c>/v1</c>, Triton's generate, gRPC
/// generation). Targets 0 crashes and 0 INTERNAL answers. Writes artifacts/bench/fuzz.json.
/// </summary>
public sealed class FuzzScenario : IBenchScenario
{
    private const int DefaultCases = 100_000;
    private const int Seed = 20261202;

    public string Name => "fuzz";

    public string Summary => "100,000 hostile cases on every edge surface (--cases overrides): crashes, INTERNAL answers, peak RSS; writes fuzz.json";

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
            },
            bundledModels: true);
        using var channel = GrpcChannel.ForAddress(cluster.GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        using var http = new HttpClient { BaseAddress = new Uri(cluster.HttpAddress) };
        var cases = options.Cases ?? DefaultCases;
        Console.WriteLine($"fuzz: {cases:N0} cases, seed {Seed}");
        var clock = Stopwatch.StartNew();
        var report = await new EdgeFuzzer(channel, http, apiKey: "none").RunAsync(cases, Seed);
        var results = new FuzzResults
        {
            Cases = report.Cases,
            Crashes = report.Crashes,
            InternalErrors = report.InternalErrors,
            Hangs = report.Hangs,
            MaxRssMb = report.PeakWorkingSetMb,
            GcHeapGrowthMb = report.GcHeapGrowthMb,
            Seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "value"],
            [
                ["cases", BenchReport.Number(results.Cases)],
                ["crashes / internal errors / hangs", $"{results.Crashes} / {results.InternalErrors} / {results.Hangs}"],
                ["peak working set (MiB)", BenchReport.Number(results.MaxRssMb, 1)],
                ["managed heap growth (MiB)", BenchReport.Number(results.GcHeapGrowthMb, 1)],
                ["seconds", BenchReport.Number(results.Seconds, 1)],
                .. report.Answers.Select(a => new[] { a.Key, BenchReport.Number(a.Value) }),
            ]));
        foreach (var failure in report.Failures)
        {
            Console.WriteLine($"  fuzz: {failure}");
        }

        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "fuzz.json", results)}");
    }

    /// <summary>The <c>fuzz</c> scenario's figures; <c>crashes</c> and <c>internal_errors</c> must be 0.</summary>
    private sealed record FuzzResults
    {
        [JsonPropertyName("cases")] public required int Cases { get; init; }

        [JsonPropertyName("crashes")] public required int Crashes { get; init; }

        [JsonPropertyName("internal_errors")] public required int InternalErrors { get; init; }

        [JsonPropertyName("hangs")] public required int Hangs { get; init; }

        /// <summary>The benchmark process's peak working set: client and silo share it.</summary>
        [JsonPropertyName("max_rss_mb")] public required double MaxRssMb { get; init; }

        [JsonPropertyName("gc_heap_growth_mb")] public required double GcHeapGrowthMb { get; init; }

        [JsonPropertyName("seconds")] public required double Seconds { get; init; }
    }
}
