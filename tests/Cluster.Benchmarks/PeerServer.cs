using System.Globalization;
using System.Net;
using Cluster.Client.Protocol;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Repository;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>peer &lt;model folder&gt; &lt;port&gt;</c>: the baseline the <c>edge</c> scenario divides the cluster's figures by. A
/// hand-written single-process server: ASP.NET Core gRPC from the project's proto on loopback, no Orleans, one
/// ONNX Runtime session opened as the cluster opens its sessions (<see cref="OrtSessions"/>, the model's
/// <c>intra_op_threads</c>), and one loop that runs every waiting request, up to the model's <c>max_batch_size</c>,
/// as one batch (<see cref="PeerBatcher"/>). It serves <c>ModelInfer</c> and <c>ModelStreamInfer</c> for a model
/// of one FP32 input and one FP32 output sent as raw rows. Prints <see cref="ReadyLine"/> once it listens.
/// </summary>
public static class PeerServer
{
    /// <summary>The sub-command that runs the peer instead of a scenario.</summary>
    public const string Command = "peer";

    /// <summary>The line the peer prints once it accepts calls.</summary>
    public const string ReadyLine = "peer ready";

    /// <summary>Runs the peer until the process is stopped; returns 2 with a message when the arguments are wrong.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [Command, var folder, var portText, var metricsPortText]
            || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || !int.TryParse(metricsPortText, NumberStyles.None, CultureInfo.InvariantCulture, out var metricsPort)
            || !Directory.Exists(folder))
        {
            Console.Error.WriteLine(
                "usage: peer <model folder> <port> <metrics port>: the folder must hold config.json and 1/model.onnx, the ports be numbers");
            return 2;
        }

        var config = ModelConfigReader.Read(Path.Combine(folder, "config.json"));
        using var session = OrtSessions.Open(Path.Combine(folder, "1", "model.onnx"), DeviceDescriptor.Cpu, config.IntraOpThreads);
        using var batcher = new PeerBatcher(session, config.MaxBatchSize);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2);
            k.Listen(IPAddress.Loopback, metricsPort, o => o.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(batcher);
        await using var app = builder.Build();
        app.MapGrpcService<PeerService>();

        // The figures the benchmark reads from a server's metrics page: the allocation, exact, under the name the silo gives it.
        app.MapGet("/metrics", () =>
                $"{EdgeMeasurement.AllocatedMetric} {GC.GetTotalAllocatedBytes(precise: true)}\n{EdgeMeasurement.PeerBatchesMetric} {batcher.Batches}\n" +
                $"{EdgeMeasurement.PeerRunSecondsMetric} {batcher.RunSeconds.ToString("R", CultureInfo.InvariantCulture)}\n")
            .RequireHost($"*:{metricsPort}");
        await app.StartAsync();
        Console.WriteLine(ReadyLine);
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>The peer's two inference methods, both answered by the batcher.</summary>
    private sealed class PeerService(PeerBatcher batcher) : GRPCInferenceService.GRPCInferenceServiceBase
    {
        public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) => batcher.InferAsync(request);

        /// <summary>Each request runs as it arrives; answers are written as they complete, one write at a time.</summary>
        public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream,
            IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
        {
            var writeLock = new SemaphoreSlim(1);
            var running = new List<Task>();
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                running.RemoveAll(t => t.IsCompleted);
                running.Add(AnswerAsync(requestStream.Current));
            }

            await Task.WhenAll(running);

            async Task AnswerAsync(ModelInferRequest request)
            {
                var answer = new ModelStreamInferResponse { InferResponse = await batcher.InferAsync(request) };
                await writeLock.WaitAsync(context.CancellationToken);
                try
                {
                    await responseStream.WriteAsync(answer, context.CancellationToken);
                }
                finally
                {
                    writeLock.Release();
                }
            }
        }
    }
}
