using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Generation;
using Google.Protobuf.Collections;

namespace Cluster.Silo.Edge;

/// <summary>
/// The Open Inference Protocol for generation models, as Triton's LLM backends speak it: the prompt in a
/// <c>text_input</c> BYTES [1] (or [1,1]) tensor, or a conversation as JSON in a <c>messages</c> one (rendered by the
/// model's chat template), sampling settings as request parameters, the text back in
/// <c>text_output</c> BYTES [1]. On a stream each token is one response and the last carries
/// <c>triton_final_response</c>; a unary call answers the whole text.
/// </summary>
public static class GenerationRequests
{
    /// <summary>Response parameter that marks a request's last response on a stream (Triton's decoupled models).</summary>
    public const string FinalResponse = "triton_final_response";

    /// <summary>Response parameter: <c>stop</c>, <c>length</c> or <c>cancelled</c>.</summary>
    public const string FinishReason = "finish_reason";

    /// <summary>Response parameter: tokens in the prompt.</summary>
    public const string PromptTokens = "prompt_tokens";

    /// <summary>Response parameter: tokens generated so far.</summary>
    public const string CompletionTokens = "completion_tokens";

    /// <summary>Response parameter: prompt tokens the replica served from its prefix cache.</summary>
    public const string CachedPromptTokens = "cached_prompt_tokens";

    /// <summary>Response parameter: the id of the response's last token (-1 when none).</summary>
    public const string TokenId = "token_id";

    /// <summary>The request parameters a generation takes.</summary>
    public static readonly IReadOnlyList<string> Parameters =
        ["max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream", "ignore_eos", "priority", "timeout", "resume_tokens",
            InferRequestRunner.ExperimentKeyParameter];

    /// <summary>
    /// The model version <paramref name="request"/> goes to when it is a generation model; null for other
    /// models and requests without a model name (the tensor path answers those). Throws ModelNotFoundException.
    /// </summary>
    public static ValueTask<ModelTarget?> GenerationTargetAsync(InferenceClient client, ModelInferRequest request)
    {
        if (string.IsNullOrEmpty(request.ModelName))
        {
            return ValueTask.FromResult<ModelTarget?>(null);
        }

        // Every tensor request passes here: a resolution the client has cached costs no allocation.
        var resolving = client.ResolveAsync(request.ModelName, InferRequestRunner.ParseVersion(request.ModelName, request.ModelVersion));
        return resolving.IsCompletedSuccessfully ? new(Generating(resolving.Result)) : AwaitAsync(resolving);

        static async ValueTask<ModelTarget?> AwaitAsync(Task<ModelTarget> resolving) => Generating(await resolving);

        static ModelTarget? Generating(ModelTarget target) => target.Version.Generates ? target : null;
    }

    /// <summary>Runs a whole generation and answers its text in one response (a unary <c>ModelInfer</c>).</summary>
    public static async Task<ModelInferResponse> GenerateAsync(
        InferenceClient client, EdgeLimits limits, ModelTarget target, ModelInferRequest request, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        var (generation, _, raw) = Read(target, request, limits, deadline);
        return await WholeAsync(client, target, request, generation, raw, final: false, cancellationToken);
    }

    /// <summary>
    /// Runs a generation for <c>ModelStreamInfer</c>: one response per token with text (the final one always),
    /// or, when the request's <c>stream</c> parameter is false, one final response with the whole text.
    /// </summary>
    public static async IAsyncEnumerable<ModelInferResponse> StreamAsync(
        InferenceClient client, EdgeLimits limits, ModelTarget target, ModelInferRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (generation, stream, raw) = Read(target, request, limits, deadline: null);
        if (!stream)
        {
            yield return await WholeAsync(client, target, request, generation, raw, final: true, cancellationToken);
            yield break;
        }

        GeneratedToken? last = null;
        await foreach (var token in client.GenerateAsync(target.Model, generation, target.Version.Version, cancellationToken))
        {
            last = token;
            var final = token.FinishReason is not null;

            // A piece without text (half a character, a possible stop string) tells the client nothing yet.
            if (token.Text.Length > 0 || final)
            {
                yield return Response(target, request, token.Text, token, final, raw);
            }

            if (final)
            {
                yield break;
            }
        }

        // The engine always ends with a finish reason; should a stream end without one, the client still learns it is over.
        yield return Response(target, request, "", last ?? new GeneratedToken { TokenId = -1 }, final: true, raw);
    }

    private static async Task<ModelInferResponse> WholeAsync(
        InferenceClient client, ModelTarget target, ModelInferRequest request, GenerationRequest generation, bool raw, bool final,
            CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var last = new GeneratedToken { TokenId = -1 };
        await foreach (var token in client.GenerateAsync(target.Model, generation, target.Version.Version, cancellationToken))
        {
            text.Append(token.Text);
            last = token;
        }

        return Response(target, request, text.ToString(), last, final, raw);
    }

    private static ModelInferResponse Response(ModelTarget target, ModelInferRequest request, string text, GeneratedToken token, bool final, bool raw)
    {
        var response = new ModelInferResponse
        {
            ModelName = target.Model,
            ModelVersion = target.Version.Version.ToString(CultureInfo.InvariantCulture),
            Id = request.Id,
        };
        response.Outputs.Add(ProtocolTensors.Write(TensorData.FromStrings(GenerationSignature.TextOutput, [text], 1), raw ? response.RawOutputContents : null));
        response.Parameters[TokenId] = new InferParameter { Int64Param = token.TokenId };
        response.Parameters[PromptTokens] = new InferParameter { Int64Param = token.PromptTokens };
        response.Parameters[CompletionTokens] = new InferParameter { Int64Param = token.GeneratedTokens };
        response.Parameters[CachedPromptTokens] = new InferParameter { Int64Param = token.CachedPromptTokens };
        if (token.FinishReason is { } reason)
        {
            response.Parameters[FinishReason] = new InferParameter { StringParam = reason };
        }

        if (final)
        {
            response.Parameters[FinalResponse] = new InferParameter { BoolParam = true };
        }

        return response;
    }

    /// <summary>The generation a request asks for, whether to stream it, and whether it sent its inputs raw; throws InvalidInputException naming the
    /// field.</summary>
    private static (GenerationRequest Request, bool Stream, bool Raw) Read(ModelTarget target, ModelInferRequest request, EdgeLimits limits,
        DateTimeOffset? deadline)
    {
        var where = $"model '{target.Model}' version {target.Version.Version}";
        var raw = request.RawInputContents.Count > 0;
        if (raw && request.RawInputContents.Count != request.Inputs.Count)
        {
            throw new InvalidInputException($"Model '{target.Model}': {request.RawInputContents.Count} raw_input_contents for {request.Inputs.Count} inputs; " +
                "give one per input, in input order.");
        }

        int prompt = -1, messages = -1;
        for (var i = 0; i < request.Inputs.Count; i++)
        {
            switch (request.Inputs[i].Name)
            {
                case GenerationSignature.TextInput:
                    prompt = prompt < 0 ? i : throw GivenTwice(GenerationSignature.TextInput, where);
                    break;
                case GenerationSignature.Messages:
                    messages = messages < 0 ? i : throw GivenTwice(GenerationSignature.Messages, where);
                    break;
                default:
                    throw new InvalidInputException($"Input '{request.Inputs[i].Name}' is not an input of {where}; it takes {Inputs}.");
            }
        }

        if (prompt < 0 && messages < 0)
        {
            throw new InvalidInputException($"Input '{GenerationSignature.TextInput}' of {where} is missing (expected {Inputs}).");
        }

        foreach (var output in request.Outputs)
        {
            if (output.Name != GenerationSignature.TextOutput)
            {
                throw new InvalidInputException($"Requested output '{output.Name}' is not an output of {where}; it gives {GenerationSignature.TextOutput} " +
                    "BYTES [1].");
            }
        }

        var text = prompt < 0 ? "" : ReadText(target, where, request, prompt, raw, limits, "one prompt");
        ChatTurn[] conversation = messages < 0 ? []
            : ChatMessagesInput.Parse(where, ReadText(target, where, request, messages, raw, limits, "one conversation"));
        var (generation, stream) = Settings(target.Model, request.Parameters);
        return (generation with { Prompt = text, Messages = conversation, Id = request.Id, Deadline = deadline }, stream, raw);
    }

    /// <summary>The inputs a generation model takes, for error messages.</summary>
    private static readonly string Inputs =
        $"{GenerationSignature.TextInput} BYTES [1], the prompt, or {GenerationSignature.Messages} BYTES [1], the conversation as a JSON array of " +
            "{\"role\", \"content\"} objects";

    private static InvalidInputException GivenTwice(string input, string where) => new($"Input '{input}' of {where} is given twice.");

    /// <summary>The one string held by input <paramref name="index"/>, a BYTES [1] or [1,1] tensor.</summary>
    private static string ReadText(ModelTarget target, string where, ModelInferRequest request, int index, bool raw, EdgeLimits limits, string meaning)
    {
        var input = request.Inputs[index];
        if (input.Datatype != "BYTES")
        {
            throw new InvalidInputException($"Input '{input.Name}' of {where} has datatype {input.Datatype}; expected BYTES.");
        }

        if (input.Shape.ToArray() is not ([1] or [1, 1]))
        {
            throw new InvalidInputException($"Input '{input.Name}' of {where} has shape {TensorShape.Format(input.Shape.ToArray())}; expected [1] or [1,1] " +
                $"({meaning}).");
        }

        if (raw && input.Contents is not null)
        {
            throw new InvalidInputException($"Input '{input.Name}' of model '{target.Model}': a request must not mix raw_input_contents with typed contents.");
        }

        return ProtocolTensors.Read(target.Model, input, raw ? request.RawInputContents[index] : null, limits.MaxElementsPerTensor).AsStrings()[0];
    }

    /// <summary>
    /// The sampling settings and <c>stream</c> flag of a request's parameters (also Triton's <c>generate</c> JSON,
    /// turned into parameters); throws InvalidInputException naming the parameter.
    /// </summary>
    public static (GenerationRequest Request, bool Stream) Settings(string model, MapField<string, InferParameter> parameters)
    {
        var request = new GenerationRequest();
        var stream = true;
        foreach (var (name, value) in parameters)
        {
            request = name switch
            {
                "max_tokens" => request with { MaxTokens = Int32(model, name, value) },
                "temperature" => request with { Temperature = Real(model, name, value) },
                "top_p" => request with { TopP = Real(model, name, value) },
                "top_k" => request with { TopK = Int32(model, name, value) },
                "seed" => request with { Seed = Seed(model, value) },
                "stop" => request with { Stop = Stop(model, value) },
                "ignore_eos" => request with { IgnoreEos = Bool(model, name, value) },
                "priority" => request with { Priority = (int)Math.Min(int.MaxValue, NonNegative(model, name, value)) },
                "timeout" => request with { TimeoutMicroseconds = Timeout(model, value) },
                "resume_tokens" => request with { ResumeTokens = ResumeTokens(model, value) },
                InferRequestRunner.ExperimentKeyParameter => request with { AssignmentKey = InferRequestRunner.AssignmentKey(model, value) },
                "stream" => request,
                _ => throw new InvalidInputException(
                    $"Model '{model}': parameter '{name}' is not a generation parameter; the known ones are {string.Join(", ", Parameters)}."),
            };
            if (name == "stream")
            {
                stream = Bool(model, name, value);
            }
        }

        return (request, stream);
    }

    private static long Integer(string model, string name, InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.Int64Param => value.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Uint64Param => (long)Math.Min(value.Uint64Param, long.MaxValue),
        _ => throw WrongType(model, name, "an integer (int64_param or uint64_param)", value),
    };

    // Out-of-range values are clamped, not wrapped, so the engine's range check names the field with the value's sign intact.
    private static int Int32(string model, string name, InferParameter value) => (int)Math.Clamp(Integer(model, name, value), int.MinValue, int.MaxValue);

    private static long NonNegative(string model, string name, InferParameter value)
    {
        var number = Integer(model, name, value);
        return number >= 0 ? number
            : throw new InvalidInputException($"Model '{model}': parameter '{name}' must be a non-negative int64 or uint64, got {number}.");
    }

    private static float Real(string model, string name, InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.DoubleParam => (float)value.DoubleParam,
        InferParameter.ParameterChoiceOneofCase.Int64Param => value.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Uint64Param => value.Uint64Param,
        _ => throw WrongType(model, name, "a number (double_param, int64_param or uint64_param)", value),
    };

    private static bool Bool(string model, string name, InferParameter value) =>
        value.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.BoolParam ? value.BoolParam
            : throw WrongType(model, name, "a bool (bool_param)", value);

    private static ulong Seed(string model, InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.Uint64Param => value.Uint64Param,
        InferParameter.ParameterChoiceOneofCase.Int64Param when value.Int64Param >= 0 => (ulong)value.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Int64Param =>
            throw new InvalidInputException($"Model '{model}': parameter 'seed' must be a non-negative integer, got {value.Int64Param}."),
        _ => throw WrongType(model, "seed", "an integer (int64_param or uint64_param)", value),
    };

    private static long Timeout(string model, InferParameter value)
    {
        var microseconds = NonNegative(model, "timeout", value);
        return microseconds <= InferRequestRunner.MaxTimeoutMicroseconds
            ? microseconds
            : throw new InvalidInputException($"Model '{model}': parameter 'timeout' is {microseconds} µs, above the maximum " +
                $"of {InferRequestRunner.MaxTimeoutMicroseconds} (24 h).");
    }

    /// <summary>One stop string, or several as a JSON array of strings (the parameter map holds one value per name).</summary>
    private static string[] Stop(string model, InferParameter value)
    {
        if (value.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.StringParam)
        {
            throw WrongType(model, "stop", "a string (string_param): one stop string or a JSON array of them", value);
        }

        var text = value.StringParam;
        if (!text.StartsWith('['))
        {
            return [text];
        }

        try
        {
            return JsonSerializer.Deserialize<string[]>(text) is { } strings && !Array.Exists(strings, s => s is null)
                ? strings
                : throw new InvalidInputException($"Model '{model}': parameter 'stop' is a JSON array with a null; give strings.");
        }
        catch (JsonException)
        {
            // Not an array of strings after all: a stop string may well begin with a bracket.
            return [text];
        }
    }

    /// <summary>The token ids a resumed generation already produced, as a JSON array of integers (the SDK sends it when it resumes a stream).</summary>
    private static int[] ResumeTokens(string model, InferParameter value)
    {
        const string Expected = "a string (string_param) holding a JSON array of token ids";
        if (value.ParameterChoiceCase != InferParameter.ParameterChoiceOneofCase.StringParam)
        {
            throw WrongType(model, "resume_tokens", Expected, value);
        }

        try
        {
            return JsonSerializer.Deserialize<int[]>(value.StringParam) ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw new InvalidInputException($"Model '{model}': parameter 'resume_tokens' must be {Expected}, got '{Cut(value.StringParam)}'.");
        }

        static string Cut(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
    }

    private static InvalidInputException WrongType(string model, string name, string expected, InferParameter value) =>
        new($"Model '{model}': parameter '{name}' must be {expected}, got {Kind(value)}.");

    private static string Kind(InferParameter value) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.BoolParam => "bool_param",
        InferParameter.ParameterChoiceOneofCase.Int64Param => "int64_param",
        InferParameter.ParameterChoiceOneofCase.Uint64Param => "uint64_param",
        InferParameter.ParameterChoiceOneofCase.DoubleParam => "double_param",
        InferParameter.ParameterChoiceOneofCase.StringParam => "string_param",
        _ => "no value",
    };
}
