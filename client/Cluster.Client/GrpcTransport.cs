using System.Globalization;
using System.Runtime.CompilerServices;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Client;

/// <summary>The Open Inference Protocol over gRPC, for applications outside the cluster's network. Tensors travel raw.</summary>
internal sealed class GrpcTransport(GrpcChannel channel, string? apiKey) : IInferenceTransport
{
    private const string TextInput = "text_input";
    private const string TextOutput = "text_output";

    /// <summary>The request parameter carrying the experiment assignment key.</summary>
    private const string ExperimentKey = "experiment_key";

    /// <summary>The response parameter naming the experiment arm that answered.</summary>
    private const string ExperimentArm = "experiment_arm";

    /// <summary>A conversation: a JSON array of <c>{"role", "content"}</c> objects, which the edge renders with the model's chat template.</summary>
    private const string MessagesInput = "messages";

    private static readonly System.Text.Json.JsonSerializerOptions MessagesJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private readonly GRPCInferenceService.GRPCInferenceServiceClient _client = new(channel);
    private readonly ClusterExtensions.ClusterExtensionsClient _extensions = new(channel);
    private readonly Metadata? _headers = apiKey is null ? null : new Metadata { { "authorization", $"Bearer {apiKey}" } };

    /// <summary>The edge this transport calls, as a gRPC target (<c>dns:///host:port</c>).</summary>
    public Uri Endpoint { get; } = new($"dns:///{channel.Target}");

    public async ValueTask<InferenceResponse> InferAsync(ModelTarget target, InferenceRequest request, CancellationToken cancellationToken)
    {
        var call = new ModelInferRequest { ModelName = target.Model, ModelVersion = AskedVersion(target), Id = request.Id };
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

        if (request.AssignmentKey.Length > 0)
        {
            call.Parameters[ExperimentKey] = new InferParameter { StringParam = request.AssignmentKey };
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

        return new InferenceResponse
        {
            Model = response.ModelName,
            Version = long.Parse(response.ModelVersion, CultureInfo.InvariantCulture),
            Id = response.Id,
            Outputs = outputs,
            Arm = response.Parameters.TryGetValue(ExperimentArm, out var arm) ? arm.StringParam : "",
        };
    }

    /// <summary>
    /// One ModelStreamInfer call per generation: the request goes out, the edge answers one response per token
    /// and flags the last with <c>triton_final_response</c>. Leaving the enumeration disposes the call, which
    /// cancels it, and the edge then ends the sequence and frees its cache.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(ModelTarget target, GenerationRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = _client.ModelStreamInfer(_headers, request.Deadline?.UtcDateTime, cancellationToken);
        await Call(async () =>
        {
            await call.RequestStream.WriteAsync(GenerationCall(target, request), cancellationToken);

            // Completing the request side leaves the response side open until the generation's last token.
            await call.RequestStream.CompleteAsync();
            return true;
        }, cancellationToken);
        while (await Call(() => call.ResponseStream.MoveNext(cancellationToken), cancellationToken))
        {
            var answer = call.ResponseStream.Current;
            if (answer.ErrorMessage.Length > 0)
            {
                throw StreamError(answer.ErrorMessage);
            }

            var token = Token(answer.InferResponse);
            yield return token;
            if (token.FinishReason is not null || IsFinal(answer.InferResponse))
            {
                yield break;
            }
        }

        throw new ReplicaLostException($"The gRPC edge ended the generation stream of model '{target.Model}' without its final response.");
    }

    private static ModelInferRequest GenerationCall(ModelTarget target, GenerationRequest request)
    {
        var call = new ModelInferRequest { ModelName = target.Model, ModelVersion = AskedVersion(target), Id = request.Id };
        if (request.Prompt.Length > 0 || request.Messages.Length == 0)
        {
            call.Inputs.Add(TextTensor(TextInput, request.Prompt));
        }

        if (request.Messages.Length > 0)
        {
            call.Inputs.Add(TextTensor(MessagesInput, System.Text.Json.JsonSerializer.Serialize(request.Messages, MessagesJson)));
        }

        var parameters = call.Parameters;
        if (request.MaxTokens is { } maxTokens)
        {
            parameters["max_tokens"] = new InferParameter { Int64Param = maxTokens };
        }

        if (request.Temperature is { } temperature)
        {
            parameters["temperature"] = new InferParameter { DoubleParam = temperature };
        }

        if (request.TopP is { } topP)
        {
            parameters["top_p"] = new InferParameter { DoubleParam = topP };
        }

        if (request.TopK is { } topK)
        {
            parameters["top_k"] = new InferParameter { Int64Param = topK };
        }

        if (request.Seed is { } seed)
        {
            parameters["seed"] = new InferParameter { Uint64Param = seed };
        }

        if (request.Stop.Length > 0)
        {
            // Always a JSON array, so a single stop string that starts with a bracket is not misread.
            parameters["stop"] = new InferParameter { StringParam = System.Text.Json.JsonSerializer.Serialize(request.Stop) };
        }

        if (request.ResumeTokens.Length > 0)
        {
            parameters["resume_tokens"] = new InferParameter { StringParam = System.Text.Json.JsonSerializer.Serialize(request.ResumeTokens) };
        }

        if (request.AssignmentKey.Length > 0)
        {
            parameters[ExperimentKey] = new InferParameter { StringParam = request.AssignmentKey };
        }

        if (request.IgnoreEos)
        {
            parameters["ignore_eos"] = new InferParameter { BoolParam = true };
        }

        if (request.Priority > 0)
        {
            parameters["priority"] = new InferParameter { Int64Param = request.Priority };
        }

        if (request.TimeoutMicroseconds > 0)
        {
            parameters["timeout"] = new InferParameter { Int64Param = request.TimeoutMicroseconds };
        }

        return call;
    }

    /// <summary>One string as a BYTES [1] input.</summary>
    private static ModelInferRequest.Types.InferInputTensor TextTensor(string name, string text)
    {
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "BYTES", Contents = new InferTensorContents() };
        tensor.Shape.Add(1);
        tensor.Contents.BytesContents.Add(ByteString.CopyFromUtf8(text));
        return tensor;
    }

    private static GeneratedToken Token(ModelInferResponse response)
    {
        var text = "";
        for (var index = 0; index < response.Outputs.Count; index++)
        {
            if (response.Outputs[index].Name == TextOutput)
            {
                text = response.RawOutputContents.Count > index
                    ? new TensorData { Name = TextOutput, ElementType = TensorElementType.String, Shape = [1],
                        Data = response.RawOutputContents[index].ToByteArray() }.AsStrings()[0]
                    : response.Outputs[index].Contents?.BytesContents is { Count: > 0 } bytes ? bytes[0].ToStringUtf8() : "";
            }
        }

        var parameters = response.Parameters;
        return new GeneratedToken
        {
            TokenId = parameters.TryGetValue("token_id", out var id) ? (int)id.Int64Param : -1,
            Text = text,
            FinishReason = parameters.TryGetValue("finish_reason", out var reason) ? reason.StringParam : null,
            PromptTokens = parameters.TryGetValue("prompt_tokens", out var prompt) ? (int)prompt.Int64Param : 0,
            GeneratedTokens = parameters.TryGetValue("completion_tokens", out var generated) ? (int)generated.Int64Param : 0,
            CachedPromptTokens = parameters.TryGetValue("cached_prompt_tokens", out var cached) ? (int)cached.Int64Param : 0,
        };
    }

    private static bool IsFinal(ModelInferResponse response) =>
        response.Parameters.TryGetValue("triton_final_response", out var final) && final.BoolParam;

    /// <summary>A stream's <c>error_message</c> (<c>{status}: {message}</c>) as the typed error the status maps to.</summary>
    private static Exception StreamError(string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && Enum.TryParse<StatusCode>(message[..colon], out var status)
            ? Typed(status, message[(colon + 2)..], trailers: null) ?? new ModelExecutionException(message)
            : new ModelExecutionException(message);
    }

    public Task SendFeedbackAsync(string model, string requestId, bool accepted) =>
        Call(() => _extensions.ModelFeedbackAsync(new ModelFeedbackRequest { ModelName = model, Id = requestId, Accepted = accepted }, _headers).ResponseAsync);

    public async Task<ModelTarget> ResolveAsync(string model, long? version)
    {
        var metadata =
            await Call(() =>
                _client.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version is null ? "" : Version(version.Value) }, _headers)
                    .ResponseAsync);
        var resolved = version ?? long.Parse(metadata.Versions[0], CultureInfo.InvariantCulture);
        return new ModelTarget
        {
            Model = metadata.Name,
            VersionAsked = version is not null,
            Config = new ModelConfig { MaxBatchSize = metadata.Properties.TryGetValue("max_batch_size", out var max)
                ? int.Parse(max, CultureInfo.InvariantCulture) : 0 },
            Version = new ModelVersionDescriptor
            {
                Version = resolved,
                Inputs = [.. metadata.Inputs.Select(Spec)],
                Outputs = [.. metadata.Outputs.Select(Spec)],
                Generates = metadata.Properties.TryGetValue("generates", out var generates) && generates == "true",
            },
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

    public async Task<bool> IsReadyAsync(ModelTarget target) =>
        (await Call(() => _client.ModelReadyAsync(new ModelReadyRequest { Name = target.Model, Version = Version(target.Version.Version) }, _headers)
            .ResponseAsync)).Ready;

    public async Task<Contracts.Models.ModelStatistics> GetStatisticsAsync(ModelTarget target)
    {
        var response =
            await Call(() =>
                _client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = target.Model, Version = Version(target.Version.Version) }, _headers)
                    .ResponseAsync);
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
    private static async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellationToken = default)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested && e.StatusCode == StatusCode.Cancelled)
        {
            // The caller cancelled: the same exception a grain-call client throws.
            throw new OperationCanceledException(e.Status.Detail, e, cancellationToken);
        }
        catch (RpcException e) when (e.Status.DebugException is null)
        {
            // Statuses the edge answered with; a transport failure (no server, TLS) stays an RpcException.
            throw Typed(e.StatusCode, e.Status.Detail, e.Trailers, e) ?? e;
        }
    }

    private static Exception? Typed(StatusCode status, string detail, Metadata? trailers, Exception? inner = null) => status switch
    {
        StatusCode.NotFound when trailers?.GetValue(NotFoundTrailer.Name) == NotFoundTrailer.Request => new RequestNotFoundException(detail),
        StatusCode.NotFound => new ModelNotFoundException(detail),
        StatusCode.InvalidArgument => new InvalidInputException(detail),
        StatusCode.ResourceExhausted => new QueueFullException(detail, RetryHint.FromMilliseconds(trailers?.GetValue(RetryHint.GrpcTrailer))),
        StatusCode.Unavailable => new ModelUnavailableException(detail),
        StatusCode.DeadlineExceeded => new InferenceTimeoutException(detail),
        StatusCode.Cancelled => new OperationCanceledException(detail, inner),
        StatusCode.Internal => new ModelExecutionException(detail),
        StatusCode.Aborted => new ReplicaLostException(detail),
        _ => null,
    };

    private static string Version(long version) => version.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The version a request names: the one the caller asked for, else none, so that the edge chooses it as for any versionless
    /// request (the model's traffic split and experiment apply there).
    /// </summary>
    private static string AskedVersion(ModelTarget target) => target.VersionAsked ? Version(target.Version.Version) : "";

    private static TensorSpec Spec(ModelMetadataResponse.Types.TensorMetadata metadata) =>
        new() { Name = metadata.Name, ElementType = TensorElementTypes.FromProtocolName(metadata.Datatype), Shape = [.. metadata.Shape] };

    private static Contracts.Models.StatisticDuration Duration(Protocol.StatisticDuration? d) =>
        d is null ? default : new() { Count = (long)d.Count, Nanoseconds = (long)d.Ns };
}
