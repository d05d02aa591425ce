using Cluster.Client.Protocol;
using Google.Protobuf;
using Grpc.Core;
using static Cluster.Edge.Tests.EdgeFixture;
using static Cluster.Edge.Tests.GenerationStreamTests;
using static Cluster.Edge.Tests.GrpcServiceTests;

namespace Cluster.Edge.Tests;

/// <summary>A conversation sent to tiny_gpt's gRPC edge as the <c>messages</c> BYTES input (JSON), and the errors it answers for a bad one.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GenerationMessagesTests(EdgeFixture fixture)
{
    [Fact]
    public async Task ModelInfer_Messages_SameTextAsThePromptTheTemplateRenders()
    {
        var chat = await fixture.Grpc.ModelInferAsync(
            Conversation("""[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello world"}]"""), Key());
        var prompt = Generation("prompt", "System: Be brief.\n\nUser: Hello world\n\nAssistant:", maxTokens: 8);
        prompt.Parameters["stop"] = new InferParameter { StringParam = "\nUser:" };
        var rendered = await fixture.Grpc.ModelInferAsync(prompt, Key());

        Assert.Equal(Text(rendered), Text(chat));
        Assert.Equal(rendered.Parameters["prompt_tokens"].Int64Param, chat.Parameters["prompt_tokens"].Int64Param);
        Assert.Equal("length", chat.Parameters["finish_reason"].StringParam);
    }

    public static TheoryData<string, string> BadConversations => new()
    {
        { "[{\"role\": \"user\"", "Input 'messages' of model 'tiny_gpt' version 1 is not valid JSON (" },
        { "{\"role\": \"user\", \"content\": \"hi\"}",
            "Input 'messages' of model 'tiny_gpt' version 1 is a JSON object; expected a JSON array of {\"role\": string, \"content\": string} objects." },
        { "[]", "messages is empty: a conversation needs at least one message." },
        { "[\"hi\"]", "messages[0] is a JSON string; expected an object with string fields role and content." },
        { "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"bot\", \"content\": \"hello\"}]",
            "messages[1].role must be one of system, user, assistant, tool; got \"bot\"." },
        { "[{\"content\": \"hi\"}]", "messages[0].role is missing; it must be one of system, user, assistant, tool." },
        { "[{\"role\": \"user\"}]", "messages[0].content is missing." },
        { "[{\"role\": \"user\", \"content\": 5}]", "messages[0].content must be a string, got a JSON number." },
        { "[{\"role\": \"user\", \"content\": \"hi\", \"name\": \"ann\"}]", "messages[0] has field 'name'; a message takes only role and content (text)." },
    };

    [Theory]
    [MemberData(nameof(BadConversations))]
    public async Task ModelInfer_BadMessages_InvalidArgumentNamingTheField(string json, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(Conversation(json), Key()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInfer_PromptAndMessages_InvalidArgument()
    {
        var both = Conversation("""[{"role": "user", "content": "hi"}]""");
        both.Inputs.Add(Input("text_input", "BYTES", [1], c => c.BytesContents.Add(ByteString.CopyFromUtf8(Prompt))));

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(both, Key()).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, "Give either a prompt (text_input) or messages, not both."), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task ModelStreamInfer_MessagesAsFp32_ErrorNamingTheInput()
    {
        var request = new ModelInferRequest { ModelName = Model, Id = "fp32" };
        request.Inputs.Add(Input("messages", "FP32", [1], c => c.Fp32Contents.Add(1f)));
        using var call = fixture.Grpc.ModelStreamInfer(Key());
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();

        var responses = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal("InvalidArgument: Input 'messages' of model 'tiny_gpt' version 1 has datatype FP32; expected BYTES.", Assert.Single(responses)
            .ErrorMessage);
    }

    /// <summary>A greedy 8-token request for tiny_gpt with <paramref name="json"/> as its <c>messages</c> input.</summary>
    private static ModelInferRequest Conversation(string json)
    {
        var request = Generation("chat", Prompt, maxTokens: 8);
        request.Inputs.Clear();
        request.Inputs.Add(Input("messages", "BYTES", [1], c => c.BytesContents.Add(ByteString.CopyFromUtf8(json))));
        return request;
    }
}
