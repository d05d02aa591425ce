using Cluster.Contracts.Generation;
using System.Globalization;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Client;

/// <summary>The Open Inference Protocol over gRPC, for applications outside the cluster's network. Tensors travel raw.</summary>
internal sealed class GrpcTransport(GrpcChannel channel, string? apiKey) : IInferenceTransport
{
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client = new(channel);
    private readonly Metadata? _headers = apiKey is null ? null : new Metadata { { "authorization", $"Bearer {apiKey}" } };

    public async Task<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken)
    {
        var call = new ModelInferRequest { ModelName = target.Model, ModelVersion = Version(target.Version.Version), Id = request.Id };
        foreach (var input in request.Inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.ElementType.ToProtocolName() };
            tensor.Shape.Add(input.Shape);
            call.Inputs.Add(tensor);
            call.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(input.Data));
        }

        foreach (var output in request.RequestedOutputs)
        {
            call.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output });
        }

        if (request.Priority > 0)
        {
            call.Parameters["priority"] = new InferParameter { Int64Param = request.Priority };
        }

        if (request.TimeoutMicroseconds > 0)
        {
            call.Parameters["timeout"] = new InferParameter { Int64Param = request.TimeoutMicroseconds };
        }

        var response = await Call(() => _client.ModelInferAsync(call, _headers, request.Deadline?.UtcDateTime, cancellationToken).ResponseAsync);
        var outputs = new TensorData[response.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            var output = response.Outputs[i];
            outputs[i] = new TensorData
            {
                Name = output.Name,
                ElementType = TensorElementTypes.FromProtocolName(output.Datatype),
                Shape = [.. output.Shape],
                Data = response.RawOutputContents[i].ToByteArray(),
            };
        }

        return new InferenceResponse { Model = response.ModelName, Version = long.Parse(response.ModelVersion, CultureInfo.InvariantCulture), Id = response.Id, Outputs = outputs };
    }

    public IAsyncEnumerable<GeneratedToken> GenerateAsync(ModelTarget target, GenerationRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Generation over gRPC is not written yet.");

    public async Task<ModelTarget> ResolveAsync(string model, long? version)
    {
        var metadata = await Call(() => _client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version is null ? "" : Version(version.Value) }, _headers).ResponseAsync);
        var resolved = version ?? long.Parse(metadata.Versions[0], CultureInfo.InvariantCulture);
        return new ModelTarget
        {
            Model = metadata.Name,
            Config = new ModelConfig { MaxBatchSize = metadata.Properties.TryGetValue("max_batch_size", out var max) ? int.Parse(max, CultureInfo.InvariantCulture) : 0 },
            Version = new ModelVersionDescriptor { Version = resolved, Inputs = [.. metadata.Inputs.Select(Spec)], Outputs = [.. metadata.Outputs.Select(Spec)] },
        };
    }

    public async Task<ModelDescriptor[]> GetModelsAsync()
    {
        var index = await Call(() => _client.RepositoryIndexAsync(new RepositoryIndexRequest(), _headers).ResponseAsync);
        var models = new List<ModelDescriptor>();
        foreach (var model in index.Models.GroupBy(m => m.Name))
        {
            var versions = new List<ModelVersionDescriptor>();
            foreach (var entry in model.OrderByDescending(m => long.Parse(m.Version, CultureInfo.InvariantCulture)))
            {
                var number = long.Parse(entry.Version, CultureInfo.InvariantCulture);
                versions.Add(entry.State == "READY"
                    ? (await ResolveAsync(model.Key, number)).Version
                    : new ModelVersionDescriptor { Version = number, Inputs = [], Outputs = [], Error = entry.Reason });
            }

            models.Add(new ModelDescriptor { Name = model.Key, Config = new ModelConfig { VersionPolicy = VersionPolicy.All() }, Versions = [.. versions] });
        }

        return [.. models];
    }

    public async Task<Contracts.Models.ModelStatistics> GetStatisticsAsync(ModelTarget target)
    {
        var response = await Call(() => _client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = target.Model, Version = Version(target.Version.Version) }, _headers).ResponseAsync);
        var s = response.ModelStats.Single();
        return new Contracts.Models.ModelStatistics
        {
            Model = s.Name,
            Version = long.Parse(s.Version, CultureInfo.InvariantCulture),
            LastInferenceMs = (long)s.LastInference,
            InferenceCount = (long)s.InferenceCount,
            ExecutionCount = (long)s.ExecutionCount,
            Success = Duration(s.InferenceStats.Success),
            Fail = Duration(s.InferenceStats.Fail),
            Queue = Duration(s.InferenceStats.Queue),
            ComputeInput = Duration(s.InferenceStats.ComputeInput),
            ComputeInfer = Duration(s.InferenceStats.ComputeInfer),
            ComputeOutput = Duration(s.InferenceStats.ComputeOutput),
            Batches = [.. s.BatchStats.Select(b => new BatchStatistics
            {
                BatchSize = (int)b.BatchSize,
                ComputeInput = Duration(b.ComputeInput),
                ComputeInfer = Duration(b.ComputeInfer),
                ComputeOutput = Duration(b.ComputeOutput),
            })],
        };
    }

    /// <summary>Runs a call, turning the protocol's statuses back into the cluster's typed errors.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.Status.DebugException is null)
        {
            // Statuses the edge answered with; a transport failure (no server, TLS) stays an RpcException.
            throw e.StatusCode switch
            {
                StatusCode.NotFound => new ModelNotFoundException(e.Status.Detail),
                StatusCode.InvalidArgument => new InvalidInputException(e.Status.Detail),
                StatusCode.ResourceExhausted => new QueueFullException(e.Status.Detail, RetryHint.FromMilliseconds(e.Trailers.GetValue(RetryHint.GrpcTrailer))),
                StatusCode.Unavailable => new ModelUnavailableException(e.Status.Detail),
                StatusCode.DeadlineExceeded => new InferenceTimeoutException(e.Status.Detail),
                StatusCode.Cancelled => new OperationCanceledException(e.Status.Detail, e),
                StatusCode.Internal => new ModelExecutionException(e.Status.Detail),
                StatusCode.Aborted => new ReplicaLostException(e.Status.Detail),
                _ => e,
            };
        }
    }

    private static string Version(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static TensorSpec Spec(ModelMetadataResponse.Types.TensorMetadata metadata) =>
        new() { Name = metadata.Name, ElementType = TensorElementTypes.FromProtocolName(metadata.Datatype), Shape = [.. metadata.Shape] };

    private static Contracts.Models.StatisticDuration Duration(Protocol.StatisticDuration? d) =>
        d is null ? default : new() { Count = (long)d.Count, Nanoseconds = (long)d.Ns };
}
