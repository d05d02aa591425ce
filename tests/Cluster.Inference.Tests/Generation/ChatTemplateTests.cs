using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Cluster.Inference.Generation;

namespace Cluster.Inference.Tests.Generation;

/// <summary>Conversations rendered in each layout, and the layout found in a model folder's Hugging Face files.</summary>
public sealed class ChatTemplateTests : IDisposable
{
    private static readonly ChatTurn[] _conversation =
        [new("system", "Be brief."), new("user", "Hi"), new("assistant", "Hello."), new("user", "Name a colour.")];

    private readonly string _folder = Directory.CreateTempSubdirectory("chat-template-").FullName;

    [Theory]
    [InlineData(ChatTemplate.ChatMl,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nName a " +
            "colour.<|im_end|>\n<|im_start|>assistant\n")]
    [InlineData(ChatTemplate.Llama3,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n")]
    [InlineData(ChatTemplate.Plain, "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Name a colour.\n\nAssistant:")]
    public void Render_Conversation_InTheLayoutsFormat(string style, string expected)
    {
        Assert.Equal(expected, ChatTemplate.Named(style).Render(_conversation));
    }

    [Fact]
    public void For_TokenizerConfigWithChatMlTemplate_RecognisesChatMl()
    {
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"),
            """{"chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{%""" +
                """ endfor %}"}""");

        var template = ChatTemplate.For("", _folder);

        Assert.Equal(ChatTemplate.ChatMl, template.Style);
        Assert.Null(template.Unsupported);
        Assert.Equal(["<|im_end|>"], template.StopStrings);
    }

    [Fact]
    public void For_NamedTemplateListAndJinjaFile_ReadsTheDefaultEntryThenTheFile()
    {
        File.WriteAllText(Path.Combine(_folder, "tokenizer_config.json"),
            """{"chat_template": [{"name": "tool_use", "template": "<|im_start|>"}, {"name": "default", "template": "<|start_header_id|>{{ role }}"}]}""");
        Assert.Equal(ChatTemplate.Llama3, ChatTemplate.For("", _folder).Style);

        File.WriteAllText(Path.Combine(_folder, "chat_template.jinja"), "{{ '<|im_start|>' + message['role'] }}");
        Assert.Equal(ChatTemplate.ChatMl, ChatTemplate.For("", _folder).Style);
    }

    [Fact]
    public void For_NoTemplate_TakesPlain_AndConfigWins()
    {
        Assert.Equal(ChatTemplate.Plain, ChatTemplate.For("", _folder).Style);

        File.WriteAllText(Path.Combine(_folder, "chat_template.jinja"), "[INST] {{ message['content'] }} [/INST]");
        Assert.Equal(ChatTemplate.Llama3, ChatTemplate.For(ChatTemplate.Llama3, _folder).Style);
    }

    [Fact]
    public void Render_UnrecognisedFolderTemplate_RefusesChatNamingTheSetting()
    {
        File.WriteAllText(Path.Combine(_folder, "chat_template.jinja"), "[INST] {{ message['content'] }} [/INST]");

        var error = Assert.Throws<InvalidInputException>(() => ChatTemplate.For("", _folder).Render(_conversation));

        Assert.Contains("chat_template.jinja", error.Message);
        Assert.Contains("generation.chat_template", error.Message);
    }

    [Theory]
    [InlineData("narrator", "Hi", "messages[0].role")]
    [InlineData("user", null, "messages[0].content")]
    public void Render_BadMessage_NamesIt(string role, string? content, string field)
    {
        var error = Assert.Throws<InvalidInputException>(() => ChatTemplate.Named(ChatTemplate.Plain).Render([new ChatTurn(role, content!)]));

        Assert.Contains(field, error.Message);
    }

    [Fact]
    public void Render_NoMessages_Refused()
    {
        var error = Assert.Throws<InvalidInputException>(() => ChatTemplate.Named(ChatTemplate.ChatMl).Render([]));

        Assert.Contains("messages", error.Message);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
