using System.Text;
using System.Text.Json;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;

namespace Cluster.Inference.Generation;

/// <summary>
/// Renders a conversation into a prompt in one of the layouts chat models are trained on, ending where the
/// assistant's answer starts. The layout comes from the model's config (<c>generation.chat_template</c>) or is
/// recognised in the version folder's Hugging Face chat template; a folder without one gets <see cref="Plain"/>.
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>ChatML (<c>&lt;|im_start|&gt;role</c> … <c>&lt;|im_end|&gt;</c>): Qwen and many fine-tunes.</summary>
    public const string ChatMl = "chatml";

    /// <summary>Llama 3's header layout (<c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;</c> … <c>&lt;|eot_id|&gt;</c>).</summary>
    public const string Llama3 = "llama3";

    /// <summary>The default: <c>System: …</c>, <c>User: …</c>, <c>Assistant: …</c> paragraphs, ending with <c>Assistant:</c>.</summary>
    public const string Plain = "plain";

    /// <summary>Roles a message may take.</summary>
    public static readonly IReadOnlyList<string> Roles = ["system", "user", "assistant", "tool"];

    /// <summary>The layouts a model may name.</summary>
    public static readonly IReadOnlyList<string> Styles = [ChatMl, Llama3, Plain];

    private ChatTemplate(string style, string? unsupported)
    {
        Style = style;
        Unsupported = unsupported;
    }

    /// <summary>The layout used.</summary>
    public string Style { get; }

    /// <summary>Why chat is refused: the folder's template is in a layout this renderer does not know (null when chat works).</summary>
    public string? Unsupported { get; }

    /// <summary>Strings that end an answer in this layout (the end-of-turn marker), added to the request's own stop strings.</summary>
    public IReadOnlyList<string> StopStrings => Style switch
    {
        ChatMl => ["<|im_end|>"],
        Llama3 => ["<|eot_id|>"],
        _ => ["\nUser:"],
    };

    /// <summary>The layout named <paramref name="style"/>.</summary>
    public static ChatTemplate Named(string style) =>
        Styles.Contains(style) ? new ChatTemplate(style, null)
            : throw new ArgumentException($"Unknown chat template \"{style}\"; use one of {string.Join(", ", Styles)}.", nameof(style));

    /// <summary>
    /// The layout for a model: <paramref name="configured"/> when set, else the one recognised in the folder's
    /// <c>chat_template.jinja</c> or <c>tokenizer_config.json</c> <c>chat_template</c>, else <see cref="Plain"/>.
    /// </summary>
    public static ChatTemplate For(string configured, string versionFolder)
    {
        if (configured.Length > 0)
        {
            return Named(configured);
        }

        var (source, text) = ReadFolderTemplate(versionFolder);
        if (text is null)
        {
            return new ChatTemplate(Plain, null);
        }

        if (text.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            return new ChatTemplate(ChatMl, null);
        }

        if (text.Contains("<|start_header_id|>", StringComparison.Ordinal))
        {
            return new ChatTemplate(Llama3, null);
        }

        return new ChatTemplate(Plain,
            $"the model's chat template ({source}) is not in a layout the cluster renders ({ChatMl}, {Llama3}); " +
            $"set generation.chat_template in its config.json to one of {string.Join(", ", Styles)} to choose one");
    }

    /// <summary>The prompt for <paramref name="messages"/>; throws <see cref="InvalidInputException"/> naming the message at fault.</summary>
    public string Render(IReadOnlyList<ChatTurn> messages)
    {
        if (Unsupported is not null)
        {
            throw new InvalidInputException($"messages cannot be used with this model: {Unsupported}. Send a prompt instead.");
        }

        Validate(messages);
        var prompt = new StringBuilder();
        if (Style == Llama3)
        {
            prompt.Append("<|begin_of_text|>");
        }

        foreach (var message in messages)
        {
            AppendTurn(prompt, message.Role, message.Content);
        }

        AppendAnswerStart(prompt);
        return prompt.ToString();
    }

    /// <summary>
    /// Checks that <paramref name="messages"/> is a conversation any layout renders: at least one message, each with a
    /// known role and a content. Throws <see cref="InvalidInputException"/> naming the message at fault.
    /// </summary>
    public static void Validate(IReadOnlyList<ChatTurn> messages)
    {
        if (messages.Count == 0)
        {
            throw new InvalidInputException("messages is empty: a conversation needs at least one message.");
        }

        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message is null || !Roles.Contains(message.Role))
            {
                throw new InvalidInputException($"messages[{i}].role must be one of {string.Join(", ", Roles)}; got \"{message?.Role}\".");
            }

            if (message.Content is null)
            {
                throw new InvalidInputException($"messages[{i}].content is missing.");
            }
        }
    }

    private void AppendTurn(StringBuilder prompt, string role, string content)
    {
        switch (Style)
        {
            case ChatMl:
                prompt.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");
                break;
            case Llama3:
                prompt.Append("<|start_header_id|>").Append(role == "tool" ? "ipython" : role).Append("<|end_header_id|>\n\n").Append(content)
                    .Append("<|eot_id|>");
                break;
            default:
                prompt.Append(char.ToUpperInvariant(role[0])).Append(role, 1, role.Length - 1).Append(": ").Append(content).Append("\n\n");
                break;
        }
    }

    private void AppendAnswerStart(StringBuilder prompt) => prompt.Append(Style switch
    {
        ChatMl => "<|im_start|>assistant\n",
        Llama3 => "<|start_header_id|>assistant<|end_header_id|>\n\n",
        _ => "Assistant:",
    });

    private static (string Source, string? Text) ReadFolderTemplate(string folder)
    {
        var jinja = Path.Combine(folder, "chat_template.jinja");
        if (File.Exists(jinja))
        {
            return ("chat_template.jinja", File.ReadAllText(jinja));
        }

        var tokenizerConfig = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(tokenizerConfig))
        {
            return ("", null);
        }

        try
        {
            using var document =
                JsonDocument.Parse(File.ReadAllText(tokenizerConfig),
                    new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!document.RootElement.TryGetProperty("chat_template", out var template))
            {
                return ("", null);
            }

            // A string, or a list of named templates of which "default" is the chat one.
            var text = template.ValueKind switch
            {
                JsonValueKind.String => template.GetString(),
                JsonValueKind.Array => template.EnumerateArray()
                    .Where(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("name", out var name) && name.GetString() == "default"
                        && t.TryGetProperty("template", out _))
                    .Select(t => t.GetProperty("template").GetString())
                    .FirstOrDefault(),
                _ => null,
            };
            return ("tokenizer_config.json chat_template", text);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{tokenizerConfig} is not valid JSON: {e.Message}");
        }
    }
}
