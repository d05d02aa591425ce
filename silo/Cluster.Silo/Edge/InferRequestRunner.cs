using System.Globalization;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Client.Tensors;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Silo.Edge;

/// <summary>Runs an Open Inference Protocol <c>ModelInferRequest</c> through the SDK and builds its response.</summary>
public static class InferRequestRunner
{
    /// <summary>The longest queue timeout a request may ask for: 24 hours.</summary>
    public const long MaxTimeoutMicroseconds = 24L * 60 * 60 * 1_000_000;

    /// <summary>
    /// Validates, runs and answers one request; errors are InferenceExceptions naming the model, input and field. Bad input throws
    /// at once, before anything runs.
    /// </summary>
    public static Task<ModelInferResponse> InferAsync(
        InferenceClient client, EdgeLimits limits, ModelInferRequest request, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        var (running, raw) = Start(client, limits, request, deadline, cancellationToken);
        return AnswerAsync(running, raw);
    }

    /// <summary>
    /// Validates and starts one request: its response, to await once, and whether <see cref="Answer"/> gives the outputs as raw contents. Bad
    /// input throws at once, before anything runs. A caller with a frame of its own awaits the response there and answers it, needing no frame
    /// here.
    /// </summary>
    public static (ValueTask<InferenceResponse> Running, bool Raw) Start(
        InferenceClient client, EdgeLimits limits, ModelInferRequest request, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        var model = request.ModelName;
        if (string.IsNullOrEmpty(model))
        {
            throw new InvalidInputException("model_name is required.");
        }

        var version = ParseVersion(model, request.ModelVersion);
        var useRaw = request.RawInputContents.Count > 0;
        if (useRaw && request.RawInputContents.Count != request.Inputs.Count)
        {
            throw new InvalidInputException($"Model '{model}': {request.RawInputContents.Count} raw_input_contents for {request.Inputs.Count} inputs; give " +
                "one per input, in input order.");
        }

        long total = 0;
        var inputs = new TensorData[request.Inputs.Count];
        for (var i = 0; i < inputs.Length; i++)
        {
            var input = request.Inputs[i];
            if (useRaw && input.Contents is not null)
            {
                throw new InvalidInputException($"Input '{input.Name}' of model '{model}': a request must not mix raw_input_contents with typed contents.");
            }

            inputs[i] = ProtocolTensors.Read(model, input, useRaw ? request.RawInputContents[i] : null, limits.MaxElementsPerTensor);
            total += inputs[i].ElementCount;
            if (total > limits.MaxElementsPerRequest)
            {
                throw new InvalidInputException(
                    $"Model '{model}': the request's tensors claim more than the limit of {limits.MaxElementsPerRequest} elements.");
            }
        }

        string[] outputs = request.Outputs.Count == 0 ? [] : new string[request.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            outputs[i] = request.Outputs[i].Name;
        }

        return (client.InferOwnedAsync(model, inputs, version, outputs, request.Id, Options(model, request.Parameters, deadline), cancellationToken), useRaw);
    }

    private static async Task<ModelInferResponse> AnswerAsync(ValueTask<InferenceResponse> running, bool raw) => Answer(await running, raw);

    /// <summary>The request parameter carrying the experiment assignment key (a user or session id).</summary>
    public const string ExperimentKeyParameter = "experiment_key";

    /// <summary>The response parameter naming the experiment arm that answered (<c>{experiment id}.{arm}</c>).</summary>
    public const string ExperimentArmParameter = "experiment_arm";

    /// <summary>The longest experiment assignment key accepted.</summary>
    public const int MaxExperimentKeyLength = 256;

    /// <summary>
    /// The experiment assignment key of a request's <c>experiment_key</c> parameter; throws InvalidInputException naming the
    /// parameter unless it is a string of 1-256 characters.
    /// </summary>
    public static string AssignmentKey(string model, InferParameter value) =>
        value.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.StringParam && value.StringParam.Length is > 0 and <= MaxExperimentKeyLength
            ? value.StringParam
            : throw new InvalidInputException(
                $"Model '{model}': parameter '{ExperimentKeyParameter}' must be a string of 1-{MaxExperimentKeyLength} characters.");

    /// <summary>The protocol's version string as a version number; empty means the version policy's choice.</summary>
    public static long? ParseVersion(string model, string version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return null;
        }

        return long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new ModelNotFoundException($"Model '{model}' has no version '{version}'; versions are numbers.");
    }

    /// <summary>
    /// The protocol's response to a request <see cref="Start"/>ed; <paramref name="raw"/> as it returned. With <paramref name="reused"/>, its
    /// messages come from <see cref="ReusedResponses"/>, for an answer that goes back there once gRPC has written it.
    /// </summary>
    public static ModelInferResponse Answer(InferenceResponse response, bool raw, bool reused = false)
    {
        var answer = reused ? ReusedResponses.Response() : new ModelInferResponse();
        answer.ModelName = response.Model;
        answer.ModelVersion = response.Version.ToString(CultureInfo.InvariantCulture);
        answer.Id = response.Id;
        if (response.Arm.Length > 0)
        {
            answer.Parameters[ExperimentArmParameter] = new InferParameter { StringParam = response.Arm };
        }

        var rawContents = raw || Array.Exists(response.Outputs, o => ElementCodecs.RawOnly(o.ElementType)) ? answer.RawOutputContents : null;
        foreach (var output in response.Outputs)
        {
            answer.Outputs.Add(ProtocolTensors.Write(output, rawContents, reused ? ReusedResponses.Tensor() : null));
        }

        return answer;
    }

    private static InferOptions? Options(string model, Google.Protobuf.Collections.MapField<string, InferParameter> parameters, DateTimeOffset? deadline)
    {
        if (parameters.Count == 0)
        {
            // Most requests carry no parameters (the map's enumerator is an object, made only when there is something to read) and no deadline.
            return deadline is null ? null : new InferOptions { Deadline = deadline };
        }

        int? priority = null;
        TimeSpan? timeout = null;
        string? assignmentKey = null;
        foreach (var (name, value) in parameters)
        {
            switch (name)
            {
                case "priority":
                    priority = (int)Math.Min(int.MaxValue, Integer(model, name, value));
                    break;
                case "timeout":
                    var microseconds = Integer(model, name, value);
                    timeout = microseconds <= MaxTimeoutMicroseconds
                        ? TimeSpan.FromMicroseconds(microseconds)
                        : throw new InvalidInputException($"Model '{model}': parameter 'timeout' is {microseconds} µs, above the maximum " +
                            $"of {MaxTimeoutMicroseconds} (24 h).");
                    break;
                case ExperimentKeyParameter:
                    assignmentKey = AssignmentKey(model, value);
                    break;
                case "sequence_id" or "sequence_start" or "sequence_end" when !IsZero(value):
                    throw new InvalidInputException($"Model '{model}': parameter '{name}' asks for sequence batching, which this server does not offer.");
                default:
                    break;
            }
        }

        return new InferOptions { Priority = priority, Timeout = timeout is { } t && t > TimeSpan.Zero ? t : null, Deadline = deadline,
            AssignmentKey = assignmentKey };
    }

    private static long Integer(string model, string name, InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.Int64Param when value.Int64Param >= 0 => value.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Uint64Param => (long)Math.Min(value.Uint64Param, long.MaxValue),
        _ => throw new InvalidInputException($"Model '{model}': parameter '{name}' must be a non-negative int64 or uint64."),
    };

    private static bool IsZero(InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.BoolParam => !value.BoolParam,
        InferParameter.ParameterChoiceOneofCase.Int64Param => value.Int64Param == 0,
        InferParameter.ParameterChoiceOneofCase.Uint64Param => value.Uint64Param == 0,
        InferParameter.ParameterChoiceOneofCase.StringParam => value.StringParam.Length == 0,
        _ => true,
    };
}
