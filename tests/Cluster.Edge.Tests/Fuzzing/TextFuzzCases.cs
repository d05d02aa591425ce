using System.Text;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Google.Protobuf;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>
/// Seed-fixed hostile requests to the text routes: OpenAI's <c>/v1/completions</c>, <c>/v1/chat/completions</c> and
/// <c>/v1/models</c>, Triton's <c>generate</c> and <c>generate_stream</c>, and the gRPC generation path
/// (<c>text_input</c> or <c>messages</c> of tiny_gpt). Each starts from a valid short greedy request and gets one to
/// three mutations: fields of the wrong type, huge or negative numbers, unknown fields, odd roles and stops,
/// hostile model names, huge prompts, and bodies cut short or broken by invalid UTF-8.
/// </summary>
public sealed class TextFuzzCases(int seed)
{
    /// <summary>The generation model every valid case names.</summary>
    public const string Model = "tiny_gpt";

    private static readonly string[] Routes =
        ["/v1/completions", "/v1/chat/completions", $"/v2/models/{Model}/generate", $"/v2/models/{Model}/generate_stream"];

    private static readonly string[] Fields =
        ["model", "prompt", "messages", "text_input", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "seed", "stop", "n", "stream",
            "stream_options", "ignore_eos", "timeout", "priority", "resume_tokens", "parameters", "user"];

    private static readonly string[] GrpcParameters =
        ["max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream", "ignore_eos", "priority", "timeout", "resume_tokens"];

    private readonly Random _random = new(seed);

    /// <summary>The next REST case: what was done, the method, the path and the body (empty for a GET).</summary>
    public (string Description, HttpMethod Method, string Path, byte[] Body) NextRest()
    {
        if (_random.Next(10) == 0)
        {
            var name = _random.Next(2) == 0 ? Model : FuzzModels.Hostile[_random.Next(FuzzModels.Hostile.Length)];
            var path = _random.Next(3) == 0 ? "/v1/models" : $"/v1/models/{Uri.EscapeDataString(name)}";
            return ($"GET {path}", HttpMethod.Get, path, []);
        }

        var route = Routes[_random.Next(Routes.Length)];
        var body = ValidBody(route);
        var done = new List<string> { route };
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            done.Add(Mutate(body, ref route));
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        bytes = BodyDamage.Apply(_random, bytes, 20_000, depth => $"{{\"model\":\"{Model}\",\"messages\":{new string('[', depth)}{new string(']', depth)}}}",
            done);

        return (string.Join(", ", done), HttpMethod.Post, route, bytes);
    }

    /// <summary>The next gRPC generation case: a tiny_gpt <c>ModelInferRequest</c> with <c>text_input</c> or <c>messages</c>, mutated, as wire bytes.</summary>
    public (string Description, byte[] Message) NextGrpc()
    {
        var chat = _random.Next(2) == 0;
        var request = new ModelInferRequest { ModelName = Model, Id = "fuzz-text" };
        request.Inputs.Add(Text(chat ? "messages" : "text_input", chat ? """[{"role":"user","content":"hi"}]""" : "hello"));
        request.Parameters["max_tokens"] = new InferParameter { Int64Param = 2 };
        request.Parameters["temperature"] = new InferParameter { DoubleParam = 0 };
        var done = new List<string> { chat ? "grpc messages" : "grpc text_input" };
        for (var i = _random.Next(1, 4); i > 0; i--)
        {
            done.Add(MutateGrpc(request));
        }

        return (string.Join(", ", done), request.ToByteArray());
    }

    private static JsonObject ValidBody(string route) => route switch
    {
        "/v1/completions" => new JsonObject { ["model"] = Model, ["prompt"] = "hello", ["max_tokens"] = 2, ["temperature"] = 0 },
        "/v1/chat/completions" =>
            new JsonObject { ["model"] = Model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }), ["max_tokens"] = 2,
                ["temperature"] = 0 },
        _ => new JsonObject { ["text_input"] = "hello", ["max_tokens"] = 2, ["temperature"] = 0 },
    };

    private string Mutate(JsonObject body, ref string route)
    {
        var field = Fields[_random.Next(Fields.Length)];
        switch (_random.Next(10))
        {
            case 0:
                body[field] = RestFuzzCases.WrongType(_random);
                return $"{field} of a wrong type";
            case 1:
                body[field] = RestFuzzCases.HugeNumber(_random);
                return $"{field} a huge number";
            case 2:
                body.Remove(new[] { "model", "prompt", "messages", "text_input" }[_random.Next(4)]);
                return "required field removed";
            case 3:
                body["model"] = FuzzModels.Hostile[_random.Next(FuzzModels.Hostile.Length)];
                route = route.Replace($"/{Model}/", $"/{Uri.EscapeDataString(FuzzModels.Hostile[_random.Next(FuzzModels.Hostile.Length)])}/",
                    StringComparison.Ordinal);
                return "hostile model name";
            case 4:
                body["messages"] =
                    new JsonArray(
                        new JsonObject { ["role"] = new[] { "bot", "", "SYSTEM", "tool", "user\0" }[_random.Next(5)],
                            ["content"] = RestFuzzCases.WrongType(_random) ?? "x" });
                return "odd message";
            case 5:
                body["stop"] = _random.Next(2) == 0
                    ? new JsonArray([.. Enumerable.Range(0, _random.Next(5, 200)).Select(i => JsonValue.Create(new string('s', i)))])
                        : new JsonArray(1, null, new JsonObject());
                return "odd stop";
            case 6:
                body[new[] { "prompt", "text_input" }[_random.Next(2)]] = new string('p', _random.Next(1_000, 200_000));
                return "huge prompt";
            case 7:
                body[$"unknown_{_random.Next(100)}"] = 1;
                return "unknown field";
            case 8:
                body["stream"] = true;
                body["stream_options"] = RestFuzzCases.WrongType(_random);
                return "stream with odd options";
            default:
                body[field] = _random.Next(3) switch { 0 => -1, 1 => 0, _ => double.Epsilon };
                return $"{field} zero, negative or tiny";
        }
    }

    private string MutateGrpc(ModelInferRequest request)
    {
        var parameter = GrpcParameters[_random.Next(GrpcParameters.Length)];
        switch (_random.Next(8))
        {
            case 0:
                request.Parameters[parameter] = new InferParameter { StringParam = "x" };
                return $"{parameter} a string";
            case 1:
                request.Parameters[parameter] = _random.Next(2) == 0 ? new InferParameter { Int64Param = long.MinValue }
                    : new InferParameter { DoubleParam = double.NaN };
                return $"{parameter} out of range";
            case 2:
                request.Inputs.Add(Text(_random.Next(2) == 0 ? "messages" : "text_input", "again"));
                return "prompt input twice or both";
            case 3:
                request.Inputs[0].Datatype = FuzzModels.BadDatatypes[_random.Next(FuzzModels.BadDatatypes.Length)];
                return "prompt of a bad datatype";
            case 4:
                request.Inputs[0].Contents = new InferTensorContents();
                request.Inputs[0].Contents.BytesContents.Add([.. Enumerable.Repeat(ByteString.CopyFromUtf8("x"), _random.Next(0, 4))]);
                return "prompt with 0 to 3 elements";
            case 5:
                Prompt(request, ByteString.CopyFrom(0xFF, 0xC0, 0x80, 0x5B));
                return "prompt of invalid UTF-8";
            case 6:
                request.Inputs[0].Shape.Clear();
                request.Inputs[0].Shape.Add(FuzzModels.BadDimensions[_random.Next(FuzzModels.BadDimensions.Length)]);
                return "prompt of a lying shape";
            default:
                Prompt(request, ByteString.CopyFromUtf8(new[] { "[", "{}", "[{\"role\":\"user\"}]", "[null]", new string('[', 5000) }[_random.Next(5)]));
                return "odd messages JSON";
        }
    }

    /// <summary>Makes <paramref name="value"/> the first input's only element.</summary>
    private static void Prompt(ModelInferRequest request, ByteString value)
    {
        request.Inputs[0].Contents = new InferTensorContents();
        request.Inputs[0].Contents.BytesContents.Add(value);
    }

    private static ModelInferRequest.Types.InferInputTensor Text(string name, string value)
    {
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = "BYTES", Contents = new InferTensorContents() };
        tensor.Shape.Add(1);
        tensor.Contents.BytesContents.Add(ByteString.CopyFromUtf8(value));
        return tensor;
    }
}
