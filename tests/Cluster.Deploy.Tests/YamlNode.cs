using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Cluster.Deploy.Tests;

/// <summary>A node of a parsed YAML document (merge keys resolved), with its path for messages.</summary>
public sealed class YamlNode(object? value, string path)
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Where the node is, e.g. <c>spec.template.spec.containers[0].ports[1]</c>.</summary>
    public string Path { get; } = path;

    public bool Exists => value is not null;

    /// <summary>The scalar's text; null for a mapping, a sequence or a missing node.</summary>
    public string? Text => value as string;

    public YamlNode this[string key] =>
        new(value is Dictionary<object, object?> map && map.TryGetValue(key, out var child) ? child : null, Path.Length == 0 ? key : $"{Path}.{key}");

    /// <summary>A sequence's items (none for anything else).</summary>
    public IEnumerable<YamlNode> Items => value is List<object?> list ? list.Select((item, i) => new YamlNode(item, $"{Path}[{i}]")) : [];

    /// <summary>A mapping's entries (none for anything else).</summary>
    public IEnumerable<(string Key, YamlNode Value)> Entries =>
        value is Dictionary<object, object?> map ? map.Select(e => ((string)e.Key, this[(string)e.Key])) : [];

    /// <summary>Every non-empty document of a YAML stream.</summary>
    public static IReadOnlyList<YamlNode> ParseDocuments(string text)
    {
        var parser = new MergingParser(new Parser(new StringReader(text)));
        parser.Consume<StreamStart>();
        var documents = new List<YamlNode>();
        while (!parser.Accept<StreamEnd>(out _))
        {
            if (Deserializer.Deserialize<object?>(parser) is { } document)
            {
                documents.Add(new YamlNode(document, ""));
            }
        }

        return documents;
    }
}
