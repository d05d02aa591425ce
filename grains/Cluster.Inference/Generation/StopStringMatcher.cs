namespace Cluster.Inference.Generation;

/// <summary>
/// Finds stop strings in a sequence's decoded text as it streams, across token boundaries. Text that
/// could still be the start of a stop string is held back until it cannot be; once a stop string
/// completes, nothing from its first character on is ever released. Not thread-safe; one per sequence.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly int _longest;
    private string _held = "";
    private bool _stopped;

    /// <summary>Creates a matcher for <paramref name="stops"/> (ordinal, case-sensitive; none may be empty).</summary>
    public StopStringMatcher(IReadOnlyList<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        foreach (var stop in stops)
        {
            if (string.IsNullOrEmpty(stop))
            {
                throw new ArgumentException("Stop strings must be non-empty.", nameof(stops));
            }
        }

        _stops = [.. stops];
        _longest = _stops.Length == 0 ? 0 : _stops.Max(stop => stop.Length);
    }

    /// <summary>Whether a stop string has been found; later text is ignored.</summary>
    public bool Stopped => _stopped;

    /// <summary>
    /// Adds newly decoded text; returns the text that is now safe to emit and whether a stop string
    /// completed (in which case the text ends just before it).
    /// </summary>
    public StopMatch Append(string newText)
    {
        ArgumentNullException.ThrowIfNull(newText);
        if (_stopped)
        {
            return new StopMatch("", true, null);
        }

        if (_stops.Length == 0)
        {
            return new StopMatch(newText, false, null);
        }

        var text = _held.Length == 0 ? newText : _held + newText;
        var (at, stop) = EarliestStop(text);
        if (stop is not null)
        {
            _stopped = true;
            _held = "";
            return new StopMatch(text[..at], true, stop);
        }

        var keep = LongestPendingSuffix(text);
        _held = text[^keep..];
        return new StopMatch(text[..^keep], false, null);
    }

    /// <summary>Releases the held-back text when the sequence ends for another reason.</summary>
    public string Flush()
    {
        var held = _held;
        _held = "";
        return held;
    }

    /// <summary>
    /// The first position where any stop string starts; on a tie the shorter one, though either cuts the
    /// text at the same place.
    /// </summary>
    private (int At, string? Stop) EarliestStop(string text)
    {
        var at = int.MaxValue;
        string? found = null;
        foreach (var stop in _stops)
        {
            var index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (index < at || (index == at && stop.Length < found!.Length)))
            {
                at = index;
                found = stop;
            }
        }

        return (at, found);
    }

    /// <summary>The length of the longest end of <paramref name="text"/> that begins some stop string.</summary>
    private int LongestPendingSuffix(string text)
    {
        // A stop that fully fits was ruled out above, so only proper prefixes can be pending.
        for (var length = Math.Min(_longest - 1, text.Length); length > 0; length--)
        {
            var tail = text.AsSpan(text.Length - length);
            foreach (var stop in _stops)
            {
                if (stop.Length > length && stop.AsSpan().StartsWith(tail, StringComparison.Ordinal))
                {
                    return length;
                }
            }
        }

        return 0;
    }
}

/// <summary>What a <see cref="StopStringMatcher"/> releases after one append.</summary>
/// <param name="Text">Text safe to emit now (possibly empty).</param>
/// <param name="Stopped">Whether a stop string completed; <paramref name="Text"/> then ends just before it.</param>
/// <param name="Stop">The stop string that matched, when <paramref name="Stopped"/> is newly true.</param>
public readonly record struct StopMatch(string Text, bool Stopped, string? Stop);
