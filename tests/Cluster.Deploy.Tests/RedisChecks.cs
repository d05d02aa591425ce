namespace Cluster.Deploy.Tests;

/// <summary>
/// A Redis that the silos cluster through also holds the operator's decisions (unloaded models, traffic
/// splits, draining silos), so it must keep them across its own restart: the append-only file on, in a
/// volume mounted at its data folder.
/// </summary>
public static class RedisChecks
{
    private const string DataFolder = "/data";

    /// <summary>Whether <paramref name="image"/> is a Redis server image.</summary>
    public static bool IsRedis(string? image) => image is not null && image.Split('/')[^1].Split(':')[0] == "redis";

    /// <summary>
    /// Whether a container of a Redis image runs the server: its command line (<paramref name="arguments"/>) is
    /// absent, starts with <c>redis-server</c> or holds only the server's options; not a shell of a setup step.
    /// </summary>
    public static bool RunsServer(YamlNode arguments) =>
        arguments.Items.FirstOrDefault()?.Text is not { } first || first == "redis-server" || first.StartsWith('-');

    /// <summary>
    /// Checks a Redis container: <paramref name="arguments"/> (its command line, with or without <c>redis-server</c>)
    /// turn on <c>appendonly</c>, and <paramref name="mountPaths"/> include its data folder; <paramref name="container"/>
    /// and <paramref name="argumentsAt"/> say where in the file the container and its arguments are.
    /// </summary>
    public static void Check(string file, string container, YamlNode arguments, string argumentsAt, IEnumerable<string?> mountPaths, Problems problems)
    {
        var words = arguments.Items.Select(i => i.Text).ToList();
        var appendOnly = words.IndexOf("--appendonly");
        if (appendOnly < 0 || words.ElementAtOrDefault(appendOnly + 1) != "yes")
        {
            problems.Add(file, argumentsAt, "Redis must run with \"--appendonly\", \"yes\": it holds the operator's decisions, which a restart would lose");
        }

        if (!mountPaths.Contains(DataFolder))
        {
            problems.Add(file, container, $"Redis needs a volume mounted at {DataFolder}, where it keeps its append-only file");
        }
    }
}
