using System.Diagnostics;
using System.Text.Json.Serialization;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Repository;
using Cluster.Inference.Text;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- embeddings</c>: the bundled all-MiniLM-L6-v2 text pipeline under 32 concurrent callers (one
/// sentence each, from a fixed corpus of mixed lengths) through the SDK and through the gRPC edge, against
/// the same pipeline run directly (no cluster, one thread) on batches of the size the cluster formed, in one
/// run. Writes artifacts/bench/embeddings.json.
/// </summary>
public sealed class EmbeddingsScenario : IBenchScenario
{
    private const int Callers = 32;
    private const string Model = TextEmbeddings.DefaultModel;

    public string Name => "embeddings";

    public string Summary => "all-MiniLM-L6-v2 sentences/s, 32 callers via SDK and gRPC, vs direct ONNX Runtime at the same batch sizes";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        var corpus = SentenceCorpus.Build(1024);
        Console.WriteLine($"embeddings: {Model}, {corpus.Length} sentences of 3-60 words, {Callers} callers, {Environment.ProcessorCount} " +
            $"cores, {options.Seconds:0.##} s per load");
        LoadFigures sdk, grpc;
        int batchSize;
        (double SentencesPerSecond, TokenCounts Tokens, double Served, double Single, double CpuMilliseconds) direct;
        await using (var cluster = await BenchCluster.StartAsync(_ => { }, bundledModels: true))
        {
            using var channel = GrpcChannel.ForAddress(cluster.GrpcAddress);
            var stub = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            var requests = corpus.Select(GrpcRequest).ToArray();
            var next = 0;
            Task Sdk(int _) => cluster.Inference.EmbedAsync([corpus[Interlocked.Increment(ref next) % corpus.Length]]);
            Task Grpc(int _) => stub.ModelInferAsync(requests[Interlocked.Increment(ref next) % corpus.Length]).ResponseAsync;

            // Both paths warm up in turn, twice, before either is measured, so each measures batches formed under load rather
            // than the start's (the silo's methods are compiled optimized on first call: no JIT tiers run later, see the csproj).
            for (var pass = 0; pass < 2; pass++)
            {
                await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup * 3).RunAsync(Sdk);
                await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup * 3).RunAsync(Grpc);
            }

            // The direct run sits between the two cluster loads, so a drifting machine affects all three alike.
            sdk = await Measure("SDK (grain calls)", Sdk, options, cluster.Inference);
            batchSize = (int)Math.Round(sdk.MeanBatch);
            direct = Direct(corpus, batchSize, options);
            grpc = await Measure("gRPC edge", Grpc, options, cluster.Inference);
        }

        var results = new EmbeddingsResults
        {
            SdkSentencesPerSecond = Math.Round(sdk.Load.SamplesPerSecond, 1),
            GrpcSentencesPerSecond = Math.Round(grpc.Load.SamplesPerSecond, 1),
            DirectSentencesPerSecond = Math.Round(direct.SentencesPerSecond, 1),
            DirectServedSettingsSentencesPerSecond = Math.Round(direct.Served, 1),
            DirectSingleSessionSentencesPerSecond = Math.Round(direct.Single, 1),
            DirectBatchSize = batchSize,
            SdkCpuMillisecondsPerSentence = Math.Round(sdk.CpuMilliseconds, 3),
            GrpcCpuMillisecondsPerSentence = Math.Round(grpc.CpuMilliseconds, 3),
            DirectCpuMillisecondsPerSentence = Math.Round(direct.CpuMilliseconds, 3),
            SdkP50Milliseconds = sdk.Load.P50Milliseconds,
            SdkP99Milliseconds = sdk.Load.P99Milliseconds,
            GrpcP50Milliseconds = grpc.Load.P50Milliseconds,
            GrpcP99Milliseconds = grpc.Load.P99Milliseconds,
            ClusterMeanBatch = Math.Round((sdk.MeanBatch + grpc.MeanBatch) / 2, 2),
            ClusterPaddingFraction = Math.Round((sdk.Tokens + grpc.Tokens).PaddingFraction, 4),
            DirectPaddingFraction = Math.Round(direct.Tokens.PaddingFraction, 4),
            Cores = Environment.ProcessorCount,
            Seconds = options.Seconds,
        };
        Console.WriteLine();
        Console.Write(BenchReport.Table(
            ["figure", "value", "unit"],
            [
                [$"SDK, {Callers} callers", BenchReport.Number(results.SdkSentencesPerSecond), "sentences/s"],
                [$"gRPC edge, {Callers} callers", BenchReport.Number(results.GrpcSentencesPerSecond), "sentences/s"],
                [$"direct, batches of {batchSize} (the faster setting)", BenchReport.Number(results.DirectSentencesPerSecond), "sentences/s"],
                ["SDK / direct", BenchReport.Number(results.SdkOverDirect, 3), "x"],
                ["gRPC / direct", BenchReport.Number(results.GrpcOverDirect, 3), "x"],
                ["process CPU per sentence, SDK / gRPC / direct",
                    $"{results.SdkCpuMillisecondsPerSentence:0.###} / {results.GrpcCpuMillisecondsPerSentence:0.###} / " +
                        $"{results.DirectCpuMillisecondsPerSentence:0.###}", "ms"],
                ["SDK p50 / p99", $"{results.SdkP50Milliseconds:0.###} / {results.SdkP99Milliseconds:0.###}", "ms"],
                ["gRPC p50 / p99", $"{results.GrpcP50Milliseconds:0.###} / {results.GrpcP99Milliseconds:0.###}", "ms"],
                ["padding fraction, cluster / direct", $"{results.ClusterPaddingFraction:0.###} / {results.DirectPaddingFraction:0.###}", ""],
            ]));
        Console.WriteLine($"wrote {BenchReport.WriteJson(repositoryRoot, "embeddings.json", results)}");
    }

    private static ModelInferRequest GrpcRequest(string sentence)
    {
        var request = new ModelInferRequest { ModelName = Model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = TextEmbeddingSignature.TextInput, Datatype = "BYTES" };
        input.Shape.Add(1);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(TensorData.FromStrings(TextEmbeddingSignature.TextInput, [sentence], 1).Data));
        return request;
    }

    private static async Task<LoadFigures> Measure(string what, Func<int, Task> call, BenchOptions options, InferenceClient client)
    {
        await new ClosedLoopLoad(Callers, TimeSpan.Zero, options.Warmup).RunAsync(call);
        var before = await client.GetStatisticsAsync(Model);
        var sentences = 0L;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var load = await new ClosedLoopLoad(Callers, options.Warmup, options.Measure).RunAsync(async caller =>
        {
            await call(caller);
            Interlocked.Increment(ref sentences);
        });
        var cpuMilliseconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds / Math.Max(1, sentences);
        var after = await client.GetStatisticsAsync(Model);
        var meanBatch = (after.InferenceCount - before.InferenceCount) / (double)Math.Max(1, after.ExecutionCount - before.ExecutionCount);
        var tokens = new TokenCounts { Real = after.Tokens.Real - before.Tokens.Real, Padding = after.Tokens.Padding - before.Tokens.Padding };
        var deviceSeconds = (DeviceNanoseconds(after) - DeviceNanoseconds(before)) / 1e9;
        Console.WriteLine($"  {what}: {load.SamplesPerSecond:N1} sentences/s, p50 {load.P50Milliseconds:0.###} ms, p99 {load.P99Milliseconds:0.###} ms, mean " +
            $"batch {meanBatch:0.0}, padding {tokens.PaddingFraction:P1}, device busy {deviceSeconds / (options.Warmup + options.Measure).TotalSeconds:P0} " +
                $"(warm-up included), process CPU {cpuMilliseconds:0.###} ms per sentence");
        return new LoadFigures(load, meanBatch, tokens, cpuMilliseconds);
    }

    private static long DeviceNanoseconds(Cluster.Contracts.Models.ModelStatistics statistics) =>
        statistics.Batches.Sum(b => b.ComputeInput.Nanoseconds + b.ComputeInfer.Nanoseconds + b.ComputeOutput.Nanoseconds);

    /// <summary>
    /// The pipeline called directly, without the cluster, for the measuring time: with the model's own
    /// <c>instance_count</c> and <c>intra_op_threads</c> (one loop per instance) and as one session on every
    /// core. The faster of the two is the baseline, and its process CPU per sentence is the cluster's.
    /// </summary>
    private static (double SentencesPerSecond, TokenCounts Tokens, double Served, double Single, double CpuMilliseconds) Direct(string[] corpus, int batchSize,
        BenchOptions options)
    {
        var folder = Path.Combine(BenchCluster.BundledModelsPath, Model);
        var config = ModelConfigReader.Read(Path.Combine(folder, "config.json"));
        var served = DirectRun(folder, config, corpus, batchSize, options);
        var single = DirectRun(folder, config with { InstanceCount = 1, IntraOpThreads = 0 }, corpus, batchSize, options);
        var best = served.SentencesPerSecond >= single.SentencesPerSecond ? served : single;
        return (best.SentencesPerSecond, best.Tokens, served.SentencesPerSecond, single.SentencesPerSecond, best.CpuMilliseconds);
    }

    private static (double SentencesPerSecond, TokenCounts Tokens, double CpuMilliseconds) DirectRun(string folder, ModelConfig config, string[] corpus,
        int batchSize, BenchOptions options)
    {
        var version = Path.Combine(folder, "1");
        var instances = Enumerable.Range(0, config.InstanceCount)
            .Select(_ => new SentenceEmbeddingModel(Path.Combine(version, "model.onnx"), Path.Combine(version, "vocab.txt"), DeviceDescriptor.Cpu,
                config.TextEmbedding!, config.IntraOpThreads))
            .ToArray();
        try
        {
            var batches = corpus.Chunk(batchSize).Select(b => new[] { TensorData.FromStrings(TextEmbeddingSignature.TextInput, b, b.Length) }).ToArray();
            string[] outputs = [TextEmbeddingSignature.EmbeddingOutput];
            var start = Stopwatch.GetTimestamp();
            var end = start + (long)((options.Warmup + options.Measure).TotalSeconds * Stopwatch.Frequency);
            var measureFrom = start + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
            long sentences = 0, allSentences = 0;
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var tokens = default(TokenCounts);
            var gate = new object();
            var loops = instances.Select((instance, k) => Task.Factory.StartNew(
                () =>
                {
                    for (var i = k; Stopwatch.GetTimestamp() < end; i += instances.Length)
                    {
                        var batch = batches[i % batches.Length];
                        var result = instance.RunBatch([batch], outputs);
                        Interlocked.Add(ref allSentences, batch[0].Shape[0]);
                        if (Stopwatch.GetTimestamp() >= measureFrom)
                        {
                            lock (gate)
                            {
                                tokens += result.Tokens;
                                sentences += batch[0].Shape[0];
                            }
                        }
                    }
                },
                TaskCreationOptions.LongRunning)).ToArray();
            Task.WaitAll(loops);
            var rate = sentences / Stopwatch.GetElapsedTime(measureFrom).TotalSeconds;
            var cpuMilliseconds = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds / Math.Max(1, allSentences);
            Console.WriteLine($"  direct, batches of {batchSize}, {config.InstanceCount} session(s) " +
                $"x {(config.IntraOpThreads == 0 ? "all cores" : config.IntraOpThreads + " thread(s)")}: {rate:N1} sentences/s, " +
                    $"padding {tokens.PaddingFraction:P1}, process CPU {cpuMilliseconds:0.###} ms per sentence");
            return (rate, tokens, cpuMilliseconds);
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }
        }
    }

    private sealed record LoadFigures(LoadResult Load, double MeanBatch, TokenCounts Tokens, double CpuMilliseconds);
}

/// <summary>The <c>embeddings</c> scenario's figures.</summary>
public sealed record EmbeddingsResults
{
    [JsonPropertyName("sdk_sentences_per_s")] public required double SdkSentencesPerSecond { get; init; }

    [JsonPropertyName("grpc_sentences_per_s")] public required double GrpcSentencesPerSecond { get; init; }

    [JsonPropertyName("direct_sentences_per_s")] public required double DirectSentencesPerSecond { get; init; }

    [JsonPropertyName("direct_served_settings_sentences_per_s")] public required double DirectServedSettingsSentencesPerSecond { get; init; }

    [JsonPropertyName("direct_single_session_sentences_per_s")] public required double DirectSingleSessionSentencesPerSecond { get; init; }

    [JsonPropertyName("direct_batch_size")] public required int DirectBatchSize { get; init; }

    /// <summary>Process CPU (silo, client and callers, warm-up of the measuring run included) per sentence through the SDK: independent of
    /// what else runs on the machine, unlike the rates.</summary>
    [JsonPropertyName("sdk_cpu_ms_per_sentence")] public required double SdkCpuMillisecondsPerSentence { get; init; }

    /// <summary>The same through the gRPC edge.</summary>
    [JsonPropertyName("grpc_cpu_ms_per_sentence")] public required double GrpcCpuMillisecondsPerSentence { get; init; }

    /// <summary>The same for the direct run (the faster setting).</summary>
    [JsonPropertyName("direct_cpu_ms_per_sentence")] public required double DirectCpuMillisecondsPerSentence { get; init; }

    [JsonPropertyName("sdk_over_direct")] public double SdkOverDirect => Math.Round(SdkSentencesPerSecond / DirectSentencesPerSecond, 4);

    [JsonPropertyName("grpc_over_direct")] public double GrpcOverDirect => Math.Round(GrpcSentencesPerSecond / DirectSentencesPerSecond, 4);

    [JsonPropertyName("sdk_p50_ms")] public required double SdkP50Milliseconds { get; init; }

    [JsonPropertyName("sdk_p99_ms")] public required double SdkP99Milliseconds { get; init; }

    [JsonPropertyName("grpc_p50_ms")] public required double GrpcP50Milliseconds { get; init; }

    [JsonPropertyName("grpc_p99_ms")] public required double GrpcP99Milliseconds { get; init; }

    [JsonPropertyName("cluster_mean_batch")] public required double ClusterMeanBatch { get; init; }

    [JsonPropertyName("cluster_padding_fraction")] public required double ClusterPaddingFraction { get; init; }

    [JsonPropertyName("direct_padding_fraction")] public required double DirectPaddingFraction { get; init; }

    [JsonPropertyName("cores")] public required int Cores { get; init; }

    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
}
