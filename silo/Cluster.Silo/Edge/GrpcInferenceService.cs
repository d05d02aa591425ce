using System.Globalization;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary><c>inference.GRPCInferenceService</c>: the Open Inference Protocol with Triton's extensions.</summary>
/// <remarks>
/// Each method turns cluster errors into their gRPC statuses itself (<see cref="GrpcErrors"/>) rather than
/// through an interceptor: an interceptor pipeline costs every call a few microseconds, a try/catch nothing.
/// </remarks>
[BindServiceMethod(typeof(MalformedMessageBinding), nameof(MalformedMessageBinding.BindService))]
public sealed class GrpcInferenceService(
    InferenceClient client, ModelQueries models, ModelRepositoryControl repository, EdgeLimits limits, ClusterReadiness readiness, GrpcErrors errors)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = readiness.IsReady });

    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Guarded(context, async () => new ModelReadyResponse { Ready = await models.IsReadyAsync(request.Name, request.Version) });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context)
    {
        var response = new ServerMetadataResponse { Name = ServerDescription.Name, Version = ServerDescription.Version };
        response.Extensions.Add(ServerDescription.Extensions);
        return Task.FromResult(response);
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        Guarded(context, () => MetadataAsync(request));

    private async Task<ModelMetadataResponse> MetadataAsync(ModelMetadataRequest request)
    {
        var (model, target) = await models.MetadataAsync(request.Name, request.Version);
        var response = new ModelMetadataResponse { Name = model.Name, Platform = "onnxruntime_onnx" };
        response.Versions.Add(model.ServedVersions.Select(v => v.Version.ToString(CultureInfo.InvariantCulture)));
        response.Inputs.Add(target.Version.Inputs.Select(Metadata));
        response.Outputs.Add(target.Version.Outputs.Select(Metadata));
        response.Properties["max_batch_size"] = target.Config.MaxBatchSize.ToString(CultureInfo.InvariantCulture);
        if (target.Version.Generates)
        {
            // Tells SDK clients to generate over ModelStreamInfer rather than run tensors.
            response.Properties["generates"] = "true";
        }

        return response;
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        try
        {
            if (await GenerationRequests.GenerationTargetAsync(client, request) is { } generation)
            {
                return await GenerationRequests.GenerateAsync(client, limits, generation, request, Deadline(context), context.CancellationToken);
            }

            // Answered in this frame: a tensor request keeps no other of its own in the edge while it runs.
            var (running, raw) = InferRequestRunner.Start(client, limits, request, Deadline(context), context.CancellationToken);
            return InferRequestRunner.Answer(await running, raw, reused: true);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Translate(context.Method, e);
        }
        finally
        {
            ReusedRequests.Return(request);
        }
    }

    /// <summary>
    /// Each request runs as soon as it arrives; responses are written as they complete, each carrying
    /// its request's id. A request that fails is answered with <c>error_message</c>; the stream goes on.
    /// A generation model answers decoupled, one response per token (<see cref="GenerationRequests"/>);
    /// the call's end cancels the generations still running.
    /// </summary>
    /// <remarks>
    /// At most <see cref="EdgeLimits.MaxStreamRequestsInFlight"/> requests are run or answered at once: at the cap
    /// the next request is not read until one is fully answered. Writes wait for HTTP/2 flow control, so a client
    /// that does not read its answers stops being read, and the stream holds at most the cap's requests and answers.
    /// </remarks>
    public override async Task ModelStreamInfer(IAsyncStreamReader<ModelInferRequest> requestStream,
        IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context)
    {
        var writeLock = new SemaphoreSlim(1);
        var slots = new SemaphoreSlim(limits.MaxStreamRequestsInFlight);
        var running = new List<Task>();
        try
        {
            while (await NextRequestAsync())
            {
                if (running.Count >= limits.MaxStreamRequestsInFlight)
                {
                    running.RemoveAll(t => t.IsCompleted);
                }

                running.Add(AnsweredAsync(requestStream.Current));
            }
        }
        catch (Exception e) when (e is not RpcException && context.CancellationToken.IsCancellationRequested)
        {
            // The client went away (cancelled the call, reset the stream): an ordinary end of a stream, not a fault.
            throw new RpcException(new Status(StatusCode.Cancelled, "The client cancelled the call."));
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Translate(context.Method, e);
        }
        finally
        {
            await Answered(running, context.CancellationToken);
        }

        // A free slot first, then the next request: at the cap the stream is not read.
        async Task<bool> NextRequestAsync()
        {
            await slots.WaitAsync(context.CancellationToken);
            if (await requestStream.MoveNext(context.CancellationToken))
            {
                return true;
            }

            slots.Release();
            return false;
        }

        async Task AnsweredAsync(ModelInferRequest request)
        {
            try
            {
                await AnswerAsync(request);
            }
            finally
            {
                ReusedRequests.Return(request);
                slots.Release();
            }
        }

        async Task AnswerAsync(ModelInferRequest request)
        {
            ModelStreamInferResponse answer;
            try
            {
                if (await GenerationRequests.GenerationTargetAsync(client, request) is { } generation)
                {
                    await foreach (var response in GenerationRequests.StreamAsync(client, limits, generation, request, context.CancellationToken))
                    {
                        await WriteAsync(new ModelStreamInferResponse { InferResponse = response });
                    }

                    return;
                }

                var (running, raw) = InferRequestRunner.Start(client, limits, request, deadline: null, context.CancellationToken);
                answer = new ModelStreamInferResponse { InferResponse = InferRequestRunner.Answer(await running, raw, reused: true) };
            }
            catch (Exception e)
            {
                var status = EdgeErrors.StatusOf(e) ?? StatusCode.Internal;
                answer = new ModelStreamInferResponse
                {
                    ErrorMessage = $"{status}: {EdgeErrors.MessageOf(e)}",
                    InferResponse = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = request.ModelVersion, Id = request.Id },
                };
            }

            await WriteAsync(answer);

            // Written to the stream: its messages serve a later answer (one whose write failed is left to the collector).
            ReusedResponses.Return(answer.InferResponse);
        }

        // One write at a time: the stream's writer does not allow concurrent writes, and generations interleave.
        async Task WriteAsync(ModelStreamInferResponse answer)
        {
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

    /// <summary>Waits for a stream's answers; once the client is gone, the writes it left undone fail, and nobody is left to tell.</summary>
    private static async Task Answered(List<Task> running, CancellationToken callEnded)
    {
        try
        {
            await Task.WhenAll(running);
        }
        catch (Exception) when (callEnded.IsCancellationRequested)
        {
        }
    }

    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        Guarded(context, () => StatisticsAsync(request));

    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context) =>
        Guarded(context, () => IndexAsync(request));

    public override Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context) =>
        Guarded(context, async () =>
        {
            await repository.SetLoadedAsync(request.ModelName, loaded: true);
            return new RepositoryModelLoadResponse();
        });

    public override Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context) =>
        Guarded(context, async () =>
        {
            await repository.SetLoadedAsync(request.ModelName, loaded: false);
            return new RepositoryModelUnloadResponse();
        });

    /// <summary>Runs a handler, answering the cluster errors it throws with their gRPC statuses.</summary>
    private async Task<T> Guarded<T>(ServerCallContext context, Func<Task<T>> handler)
    {
        try
        {
            return await handler();
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Translate(context.Method, e);
        }
    }

    private async Task<ModelStatisticsResponse> StatisticsAsync(ModelStatisticsRequest request) =>
        StatisticsReport.Of(await models.StatisticsAsync(request.Name, request.Version));

    private async Task<RepositoryIndexResponse> IndexAsync(RepositoryIndexRequest request)
    {
        var response = new RepositoryIndexResponse();
        foreach (var entry in RepositoryEntries.From(await client.GetModelsAsync()))
        {
            if (!request.Ready || entry.State == RepositoryEntries.Ready)
            {
                response.Models.Add(
                    new RepositoryIndexResponse.Types.ModelIndex { Name = entry.Name, Version = entry.Version, State = entry.State, Reason = entry.Reason });
            }
        }

        return response;
    }

    private static DateTimeOffset? Deadline(ServerCallContext context) =>
        context.Deadline == DateTime.MaxValue ? null : new DateTimeOffset(context.Deadline.ToUniversalTime(), TimeSpan.Zero);

    private static ModelMetadataResponse.Types.TensorMetadata Metadata(TensorSpec spec)
    {
        var metadata = new ModelMetadataResponse.Types.TensorMetadata { Name = spec.Name, Datatype = spec.ElementType.ToProtocolName() };
        metadata.Shape.Add(spec.Shape);
        return metadata;
    }
}
