using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Generation;

/// <summary>
/// Loads a decoder's tokenizer: GPT-2's built-in BPE, or a byte-level BPE from a model version folder
/// (Hugging Face <c>tokenizer.json</c>, or <c>vocab.json</c> + <c>merges.txt</c>).
/// </summary>
public static partial class DecoderTokenizer
{
    private const string Supported =
        "supported layouts: tokenizer.json with a BPE model and a ByteLevel pre-tokenizer, vocab.json + merges.txt (byte-level BPE), " +
        "or the builtin \"gpt2\"; SentencePiece, Unigram and WordPiece tokenizers are not supported";

    /// <summary>GPT-2's vocabulary: ids 0 to 50,256.</summary>
    private const int Gpt2VocabularySize = 50257;

    private static readonly ConditionalWeakTable<Tokenizer, StrongBox<int>> LongestTokens = [];

    /// <summary>
    /// The most UTF-8 bytes one token of <paramref name="tokenizer"/> stands for (128 for GPT-2), computed once per
    /// tokenizer: a text of more than context × this many bytes cannot fit the context, whatever it says.
    /// </summary>
    public static int LongestTokenBytes(Tokenizer tokenizer) => LongestTokens.GetValue(tokenizer, t => new StrongBox<int>(t switch
    {
        // A byte-level vocabulary spells each byte as one character.
        BpeTokenizer bpe => bpe.Vocabulary.Keys.Concat(bpe.SpecialTokens?.Keys ?? []).Max(k => bpe.ByteLevel ? k.Length : Encoding.UTF8.GetByteCount(k)),
        _ => Enumerable.Range(0, Gpt2VocabularySize).Max(id => Encoding.UTF8.GetByteCount(t.Decode([id]) ?? "")),
    })).Value;

    /// <summary>
    /// The tokenizer named by <paramref name="builtin"/> (only <c>"gpt2"</c>), or else the one in
    /// <paramref name="versionFolder"/>. Throws <see cref="ArgumentException"/> naming the folder when
    /// neither applies.
    /// </summary>
    public static Tokenizer Load(string versionFolder, string? builtin)
    {
        if (builtin is not null)
        {
            return builtin == "gpt2"
                ? TiktokenTokenizer.CreateForModel("gpt2")
                : throw new ArgumentException($"Unknown builtin tokenizer \"{builtin}\" for {versionFolder}; {Supported}.", nameof(builtin));
        }

        var tokenizerJson = Path.Combine(versionFolder, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            return FromTokenizerJson(versionFolder, tokenizerJson);
        }

        var vocabJson = Path.Combine(versionFolder, "vocab.json");
        var mergesTxt = Path.Combine(versionFolder, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(mergesTxt))
        {
            return FromVocabAndMerges(versionFolder, vocabJson, mergesTxt);
        }

        throw new ArgumentException($"No tokenizer found in {versionFolder}; {Supported}.", nameof(versionFolder));
    }

    private static Tokenizer FromTokenizerJson(string folder, string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
        {
            throw Unsupported(folder, "tokenizer.json has no model");
        }

        var modelType = model.TryGetProperty("type", out var type) ? type.GetString() : null;
        if (modelType != "BPE")
        {
            throw Unsupported(folder, $"tokenizer.json model type is {modelType ?? "missing"}, not BPE");
        }

        if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind != JsonValueKind.Null)
        {
            throw Unsupported(folder, "tokenizer.json has a normalizer");
        }

        var split = PreTokenizerPattern(folder, root.TryGetProperty("pre_tokenizer", out var pre) ? pre : default);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            vocabulary[entry.Name] = entry.Value.GetInt32();
        }

        var merges = new List<string>();
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
        {
            // Older files write "a b"; newer ones ["a", "b"]. Byte-level tokens never hold a plain space.
            merges.Add(merge.ValueKind == JsonValueKind.Array
                ? $"{merge[0].GetString()} {merge[1].GetString()}"
                : merge.GetString() ?? throw Unsupported(folder, "tokenizer.json has a null merge"));
        }

        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in added.EnumerateArray())
            {
                var content = token.GetProperty("content").GetString()!;
                var id = token.GetProperty("id").GetInt32();
                special[content] = id;
                vocabulary.TryAdd(content, id);
            }
        }

        return Create(vocabulary, merges, special, split);
    }

    private static Tokenizer FromVocabAndMerges(string folder, string vocabPath, string mergesPath)
    {
        var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath))
            ?? throw Unsupported(folder, "vocab.json is empty");
        var merges = File.ReadLines(mergesPath)
            .Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            .ToList();

        // This layout has no list of special tokens; GPT-2's family spells them <|name|>.
        var special = vocabulary
            .Where(entry => entry.Key.Length > 4 && entry.Key.StartsWith("<|", StringComparison.Ordinal) && entry.Key.EndsWith("|>", StringComparison.Ordinal))
            .ToDictionary(entry => entry.Key, entry => entry.Value, StringComparer.Ordinal);
        return Create(vocabulary, merges, special, Gpt2Split());
    }

    private static Tokenizer Create(Dictionary<string, int> vocabulary, List<string> merges, Dictionary<string, int> special, Regex split) =>
        BpeTokenizer.Create(new BpeOptions(vocabulary)
        {
            Merges = merges,
            SpecialTokens = special.Count > 0 ? special : null,
            PreTokenizer = new SplitPreTokenizer(split, special),
            ByteLevel = true,
        });

    // ByteLevel alone splits with GPT-2's pattern; Sequence[Split(regex), ByteLevel] (Llama 3, Qwen) with its own.
    private static Regex PreTokenizerPattern(string folder, JsonElement pre)
    {
        if (pre.ValueKind != JsonValueKind.Object)
        {
            throw Unsupported(folder, "tokenizer.json has no pre-tokenizer");
        }

        switch (pre.GetProperty("type").GetString())
        {
            case "ByteLevel":
                RequireNoPrefixSpace(folder, pre);
                return Gpt2Split();
            case "Sequence":
                var steps = pre.GetProperty("pretokenizers").EnumerateArray().ToList();
                if (steps.Count == 2 && steps[0].GetProperty("type").GetString() == "Split" && steps[1].GetProperty("type").GetString() == "ByteLevel"
                    && steps[0].GetProperty("pattern").TryGetProperty("Regex", out var pattern)
                    && steps[0].GetProperty("behavior").GetString() == "Isolated")
                {
                    RequireNoPrefixSpace(folder, steps[1]);
                    return new Regex(pattern.GetString()!, RegexOptions.Compiled | RegexOptions.CultureInvariant);
                }

                throw Unsupported(folder, "tokenizer.json pre-tokenizer sequence is not [Split(regex, Isolated), ByteLevel]");
            case var other:
                throw Unsupported(folder, $"tokenizer.json pre-tokenizer is {other}, not ByteLevel");
        }
    }

    private static void RequireNoPrefixSpace(string folder, JsonElement byteLevel)
    {
        if (byteLevel.TryGetProperty("add_prefix_space", out var prefix) && prefix.ValueKind == JsonValueKind.True)
        {
            throw Unsupported(folder, "tokenizer.json ByteLevel add_prefix_space is not supported");
        }
    }

    private static ArgumentException Unsupported(string folder, string reason) =>
        new($"Cannot load the tokenizer in {folder}: {reason}; {Supported}.", nameof(folder));

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Split();

    /// <summary>Cuts special tokens out whole, then splits the text between them with a regex.</summary>
    private sealed class SplitPreTokenizer(Regex split, IReadOnlyDictionary<string, int> special) : PreTokenizer
    {
        private readonly Regex? _special = special.Count == 0
            ? null
            : new Regex(string.Join('|', special.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)), RegexOptions.CultureInvariant);

        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text ?? string.Empty);

        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

        private IEnumerable<(int Offset, int Length)> Split(string text)
        {
            var start = 0;
            if (_special is not null)
            {
                for (var match = _special.Match(text); match.Success; match = match.NextMatch())
                {
                    foreach (var piece in Pieces(text, start, match.Index))
                    {
                        yield return piece;
                    }

                    yield return (match.Index, match.Length);
                    start = match.Index + match.Length;
                }
            }

            foreach (var piece in Pieces(text, start, text.Length))
            {
                yield return piece;
            }
        }

        private IEnumerable<(int Offset, int Length)> Pieces(string text, int from, int to)
        {
            for (var match = split.Match(text, from, to - from); match.Success; match = match.NextMatch())
            {
                yield return (match.Index, match.Length);
            }
        }
    }
}
