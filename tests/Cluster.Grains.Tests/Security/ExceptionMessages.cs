namespace Cluster.Grains.Tests.Security;

/// <summary>An exception's message with those of its inner exceptions, for asserting on the cause of a failed start.</summary>
internal static class ExceptionMessages
{
    /// <summary>Every message from <paramref name="e"/> down its inner exceptions, joined by <c> | </c>.</summary>
    public static string Of(Exception? e)
    {
        var messages = new List<string>();
        for (; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return string.Join(" | ", messages);
    }
}
