using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Generation;

/// <summary>
/// Turns a stream of generated token ids into text pieces, never splitting a multi-byte UTF-8
/// character: the prefix/read offset method of Hugging Face TGI. Only a short window of recent ids is
/// decoded per token: those since the last fully decoded point, plus the previous piece's ids as
/// context for tokenizers whose decoding depends on neighbours. Not thread-safe; one per sequence.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' <c>Decode</c> turns bytes that end mid-character into one trailing U+FFFD
/// (it neither throws nor drops them), and invalid bytes elsewhere into U+FFFD as well. A trailing
/// U+FFFD is therefore held back until a later token completes or invalidates the character; an
/// invalid byte followed by valid text is released as U+FFFD, as every detokenizer must.
/// </remarks>
public sealed class IncrementalDetokenizer
{
    private const char Replacement = '\uFFFD';

    private readonly Tokenizer _tokenizer;
    private int[] _window = new int[16];
    private int _count;
    private int _readOffset;
    private int _prefixLength;
    private int _released;

    /// <summary>Creates a detokenizer for ids produced by <paramref name="tokenizer"/>'s vocabulary.</summary>
    public IncrementalDetokenizer(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
    }

    /// <summary>
    /// Adds one generated id; returns the text it completes (possibly empty), which never ends in half
    /// of a UTF-8 character.
    /// </summary>
    public string Add(int tokenId)
    {
        if (_count == _window.Length)
        {
            Array.Resize(ref _window, _window.Length * 2);
        }

        _window[_count++] = tokenId;
        var text = Decode(0, _count);
        var complete = text.Length == 0 || text[^1] != Replacement;

        // Everything before a trailing U+FFFD is whole characters and can go out already.
        var safe = complete ? text.Length : text.Length - 1;
        var piece = safe > _released ? text[_released..safe] : "";
        _released = Math.Max(_released, safe);
        if (complete && text.Length > _prefixLength)
        {
            Slide();
        }

        return piece;
    }

    /// <summary>Returns whatever is still held back (a trailing U+FFFD for a truly cut character) and starts afresh.</summary>
    public string Flush()
    {
        var text = _count == 0 ? "" : Decode(0, _count);
        var rest = text.Length > _released ? text[_released..] : "";
        _count = 0;
        _readOffset = 0;
        _prefixLength = 0;
        _released = 0;
        return rest;
    }

    /// <summary>
    /// Makes the ids read so far the new context: drops the old context and remembers how much of the
    /// window's decoding the context accounts for.
    /// </summary>
    private void Slide()
    {
        var newPrefix = _readOffset;
        Array.Copy(_window, newPrefix, _window, 0, _count - newPrefix);
        _count -= newPrefix;
        _readOffset = _count;
        _prefixLength = Decode(0, _readOffset).Length;
        _released = _prefixLength;
    }

    private string Decode(int start, int end) =>
        _tokenizer.Decode(new ArraySegment<int>(_window, start, end - start)) ?? "";
}
