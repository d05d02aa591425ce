using System.Text;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>The damage the HTTP fuzzers do to a JSON body once its fields are mutated: cut short, invalid UTF-8, or deep nesting.</summary>
internal static class BodyDamage
{
    /// <summary>
    /// In one draw of eight, cuts <paramref name="bytes"/> short, splices invalid UTF-8 into it, or replaces it with
    /// <paramref name="nested"/> of a depth from 60 to <paramref name="maxDepth"/>; otherwise returns it unchanged.
    /// What was done is added to <paramref name="done"/>.
    /// </summary>
    public static byte[] Apply(Random random, byte[] bytes, int maxDepth, Func<int, string> nested, List<string> done)
    {
        switch (random.Next(8))
        {
            case 0:
                done.Add("body cut short");
                return bytes[..random.Next(bytes.Length)];
            case 1:
                var at = random.Next(bytes.Length);
                done.Add("invalid UTF-8");
                return [.. bytes[..at], .. new byte[] { 0xFF, 0xC0, 0x80, 0xED, 0xA0, 0x80 }[..random.Next(1, 7)], .. bytes[at..]];
            case 2:
                var depth = random.Next(60, maxDepth);
                done.Add($"nesting {depth} deep");
                return Encoding.UTF8.GetBytes(nested(depth));
            default:
                return bytes;
        }
    }
}
