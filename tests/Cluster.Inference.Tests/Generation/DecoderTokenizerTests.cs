using System.Text;
using System.Text.Json;
using Cluster.Inference.Generation;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Tests.Generation;

public sealed class DecoderTokenizerTests : IDisposable
{
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string MultiByte = "héllo wörld, 日本語 🙂!";
    private static readonly TiktokenTokenizer _gpt2 = TiktokenTokenizer.CreateForModel("gpt2");
    private readonly string _folder = Directory.CreateTempSubdirectory("decoder-tokenizer-").FullName;

    [Fact]
    public void Load_BuiltinGpt2_EncodesGpt2IdsAndRoundTripsMultiByteText()
    {
        var tokenizer = DecoderTokenizer.Load(_folder, "gpt2");

        Assert.Equal([23748, 995], tokenizer.EncodeToIds(" hello world"));
        Assert.Equal([464, 2068, 7586, 21831, 18045, 625, 262], tokenizer.EncodeToIds("The quick brown fox jumps over the"));
        Assert.Equal(MultiByte, tokenizer.Decode(tokenizer.EncodeToIds(MultiByte)));
        Assert.Equal([50256], tokenizer.EncodeToIds("<|endoftext|>"));
    }

    [Fact]
    public void Load_VocabAndMerges_EncodesLikeGpt2AndRoundTrips()
    {
        var (vocabulary, merges) = SyntheticVocabulary();
        File.WriteAllText(Path.Combine(_folder, "vocab.json"), JsonSerializer.Serialize(vocabulary));
        File.WriteAllLines(Path.Combine(_folder, "merges.txt"), ["#version: 0.2", .. merges]);

        var tokenizer = DecoderTokenizer.Load(_folder, builtin: null);

        Assert.Equal(_gpt2.EncodeToIds(" hello world"), tokenizer.EncodeToIds(" hello world"));
        Assert.Equal([23748, 995], tokenizer.EncodeToIds(" hello world"));
        Assert.Equal(_gpt2.EncodeToIds(" hello<|endoftext|> world"), tokenizer.EncodeToIds(" hello<|endoftext|> world"));
        Assert.Equal(MultiByte, tokenizer.Decode(tokenizer.EncodeToIds(MultiByte)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Load_TokenizerJson_EncodesLikeGpt2AndRoundTrips(bool mergesAsArrays, bool splitThenByteLevel)
    {
        var (vocabulary, merges) = SyntheticVocabulary();
        vocabulary.Remove("<|endoftext|>");
        var json = new Dictionary<string, object?>
        {
            ["version"] = "1.0",
            ["added_tokens"] = new[] { new { id = 50256, content = "<|endoftext|>", special = true } },
            ["normalizer"] = null,
            ["pre_tokenizer"] = splitThenByteLevel
                ? new
                {
                    type = "Sequence",
                    pretokenizers = new object[]
                    {
                        new { type = "Split", pattern = new { Regex = Gpt2Pattern }, behavior = "Isolated", invert = false },
                        new { type = "ByteLevel", add_prefix_space = false, trim_offsets = false, use_regex = false },
                    },
                }
                : new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = true },
            ["model"] = new Dictionary<string, object>
            {
                ["type"] = "BPE",
                ["vocab"] = vocabulary,
                ["merges"] = mergesAsArrays ? merges.Select(m => m.Split(' ')).ToArray() : merges.ToArray(),
            },
        };
        File.WriteAllText(Path.Combine(_folder, "tokenizer.json"), JsonSerializer.Serialize(json));

        var tokenizer = DecoderTokenizer.Load(_folder, builtin: null);

        Assert.Equal([23748, 995], tokenizer.EncodeToIds(" hello world"));
        Assert.Equal([23748, 50256, 995], tokenizer.EncodeToIds(" hello<|endoftext|> world"));
        Assert.Equal(MultiByte, tokenizer.Decode(tokenizer.EncodeToIds(MultiByte)));
    }

    [Fact]
    public void Load_EmptyFolder_ThrowsArgumentExceptionNamingFolder()
    {
        var error = Assert.Throws<ArgumentException>(() => DecoderTokenizer.Load(_folder, builtin: null));

        Assert.Contains(_folder, error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json with a BPE model and a ByteLevel pre-tokenizer", error.Message, StringComparison.Ordinal);
        Assert.Contains("SentencePiece, Unigram and WordPiece tokenizers are not supported", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":{"type":"WordPiece","vocab":{}},"pre_tokenizer":{"type":"BertPreTokenizer"}}""", "model type is WordPiece")]
    [InlineData("""{"model":{"type":"Unigram","vocab":[]},"pre_tokenizer":{"type":"Metaspace"}}""", "model type is Unigram")]
    [InlineData("""{"model":{"type":"BPE","vocab":{},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}""", "pre-tokenizer is Metaspace")]
    public void Load_UnsupportedTokenizerJson_ThrowsArgumentExceptionNamingFolder(string json, string reason)
    {
        File.WriteAllText(Path.Combine(_folder, "tokenizer.json"), json);

        var error = Assert.Throws<ArgumentException>(() => DecoderTokenizer.Load(_folder, builtin: null));

        Assert.Contains(_folder, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownBuiltin_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => DecoderTokenizer.Load(_folder, "llama"));

        Assert.Contains("\"llama\"", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Every byte under GPT-2's id for it, plus merges that build " hello" and " world" one letter at a
    // time; the intermediate pieces take GPT-2's ids where GPT-2 has them as single tokens.
    private static (Dictionary<string, int> Vocabulary, List<string> Merges) SyntheticVocabulary()
    {
        var byteChars = ByteToUnicode();
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);

        // GPT-2 numbers its 256 byte tokens in the table's order: printable bytes first, then the rest.
        var order = Enumerable.Range(0, 256).OrderBy(b => byteChars[b] >= 256).ThenBy(b => b).ToArray();
        for (var id = 0; id < order.Length; id++)
        {
            vocabulary[byteChars[order[id]].ToString()] = id;
        }

        var merges = new List<string>();
        var fresh = 60_000;
        foreach (var word in new[] { " hello", " world" })
        {
            var piece = Encode(word[..1], byteChars);
            for (var i = 1; i < word.Length; i++)
            {
                var next = Encode(word[i..(i + 1)], byteChars);
                merges.Add($"{piece} {next}");
                piece += next;
                var ids = _gpt2.EncodeToIds(word[..(i + 1)]);
                vocabulary[piece] = ids.Count == 1 ? ids[0] : fresh++;
            }
        }

        vocabulary["<|endoftext|>"] = 50256;
        return (vocabulary, merges);
    }

    private static string Encode(string text, char[] byteChars) =>
        new([.. Encoding.UTF8.GetBytes(text).Select(b => byteChars[b])]);

    // GPT-2's reversible byte → printable character table.
    private static char[] ByteToUnicode()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }
}
