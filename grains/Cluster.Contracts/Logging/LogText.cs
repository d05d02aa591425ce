namespace Cluster.Contracts.Logging;

/// <summary>Caller-supplied text (request ids, model names, error messages that quote them) cut to a bounded length before it is logged.</summary>
public static class LogText
{
    /// <summary>The most characters of one caller-supplied value a log line carries.</summary>
    public const int MaxLength = 200;

    /// <summary><paramref name="text"/> as is when short enough, otherwise its first <see cref="MaxLength"/> characters and how many were cut.</summary>
    public static string Bounded(string? text)
    {
        if (text is null || text.Length <= MaxLength)
        {
            return text ?? "";
        }

        // Never split a surrogate pair.
        var kept = char.IsHighSurrogate(text[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
        return $"{text[..kept]}... ({text.Length - kept} more characters)";
    }
}
