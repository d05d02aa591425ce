namespace Cluster.Silo.Edge;

/// <summary>
/// The keys file: one <c>key scope[,scope]</c> per line, key and scopes separated by spaces, blank lines and <c># comments</c> allowed.
/// Every other line is a problem naming its line number (never its text, which holds a key).
/// </summary>
internal static class ApiKeysFile
{
    private static readonly string[] Scopes = [ApiKeyAuthorizer.InferScope, ApiKeyAuthorizer.AdminScope];

    /// <summary>Hands each key of <paramref name="path"/> to <paramref name="add"/>; the problems found, empty when the file is sound.</summary>
    public static List<string> Read(string path, Action<string, string[]> add)
    {
        var problems = new List<string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim(' ', '\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var where = $"Cluster:Edge:ApiKeysFile '{path}' line {i + 1}";
            if (line.Contains('\t', StringComparison.Ordinal))
            {
                problems.Add($"{where} has a tab: separate the key from its scopes with spaces ('key infer,admin').");
                continue;
            }

            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                problems.Add($"{where} has {parts.Length} space-separated field(s), not 2: write 'key scope[,scope]' with scopes " +
                    $"from {string.Join(", ", Scopes)}.");
                continue;
            }

            var (key, scopes) = (parts[0], parts[1].Split(','));
            if (key.Contains(',', StringComparison.Ordinal))
            {
                problems.Add($"{where} has a comma in its key: separate the key from its scopes with a space ('key infer,admin').");
            }
            else if (scopes.Any(s => !Scopes.Contains(s)))
            {
                problems.Add($"{where} has an unknown scope: scopes are {string.Join(", ", Scopes)}, separated by commas without spaces.");
            }
            else if (!keys.Add(key))
            {
                problems.Add($"{where} repeats a key given on an earlier line.");
            }
            else
            {
                add(key, scopes);
            }
        }

        if (keys.Count == 0 && problems.Count == 0)
        {
            problems.Add($"Cluster:Edge:ApiKeysFile '{path}' has no keys: add 'key scope[,scope]' lines, or unset the setting to serve without keys.");
        }

        return problems;
    }
}
