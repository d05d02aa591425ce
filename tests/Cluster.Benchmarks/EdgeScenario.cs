using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Tests.Shared;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// <c>-- edge</c>: the same wide_mlp load through the gRPC edge (a stub generated from the project's proto, raw
/// tensors, as tritonclient sends them) and through the SDK's grain calls, against one silo running in its own
/// process, as in production (callers are other processes), and through the same gRPC paths against the
/// <see cref="PeerServer"/>, a hand-written single-process batching server, in its own process too
/// (<see cref="EdgeMeasurement"/>). Writes artifacts/bench/edge.json.
/// </summary>
public sealed class EdgeScenario : IBenchScenario
{
    /// <summary>The model every path serves.</summary>
    public const string Model = "wide_mlp";

    /// <summary>The gRPC connections the spread path uses, to each server.</summary>
    public const int Connections = 8;

    public string Name => "edge";

    public string Summary => "64 gRPC callers through the edge vs 64 SDK callers and vs a hand-written batching server; CPU and bytes per request";

    public async Task RunAsync(BenchOptions options, string repositoryRoot)
    {
        Console.WriteLine($"edge: {Model}, {Environment.ProcessorCount} cores, {options.Seconds:0.##} s per load, the silo in its own process; silo and " +
            $"peer with gen0 budget {ServingRuntime.Gen0Budget} and thread-pool spin limit {ServingRuntime.SpinLimit}");
        using var redis = await RedisServer.StartAsync();
        var models = Directory.CreateTempSubdirectory("cluster-edge-models-").FullName;
        try
        {
            ModelCopies.Copy(Path.Combine(repositoryRoot, "deploy", "models"), Model, models);
            using var fleet = await SiloFleet.StartAsync(repositoryRoot, redis.ConnectionString, models, 1);
            using var peer = await PeerProcess.StartAsync(Path.Combine(models, Model));
            await using var connection =
                await ClusterConnection.ConnectAsync(
                    new ClusterConnectionOptions { RedisConnectionString = redis.ConnectionString, ClusterId = fleet.ClusterId });
            var channels = Enumerable.Range(0, Connections).Select(_ => GrpcChannel.ForAddress(fleet.GrpcAddresses.Single()))
                .Concat(Enumerable.Range(0, Connections).Select(_ => GrpcChannel.ForAddress(peer.Address)))
                .ToArray();
            try
            {
                var stubs = channels.Select(c => new GRPCInferenceService.GRPCInferenceServiceClient(c)).ToArray();
                var silo = new EdgeServer("silo", fleet.Processes.Single(), stubs[..Connections], fleet.MetricsAddresses.Single());
                var peerServer = new EdgeServer("peer", peer.Process, stubs[Connections..], peer.MetricsAddress);
                var measurement = new EdgeMeasurement(options, connection.Inference, connection.Grains, Path.Combine(models, Model), silo, peerServer);
                await measurement.RunAsync(repositoryRoot);
            }
            finally
            {
                foreach (var channel in channels)
                {
                    channel.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }
}
