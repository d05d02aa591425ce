namespace Cluster.Benchmarks;

/// <summary>A fixed corpus of English-like sentences of mixed lengths (3 to 60 words), the same on every run.</summary>
public static class SentenceCorpus
{
    private static readonly string[] Words =
    [
        "the", "model", "serves", "requests", "from", "a", "cluster", "of", "silos", "with", "graphics", "cards",
        "every", "batch", "runs", "on", "one", "device", "while", "queues", "fill", "and", "drain", "quickly",
        "people", "read", "short", "news", "about", "weather", "markets", "football", "music", "and", "travel",
        "engineers", "measure", "latency", "throughput", "memory", "under", "steady", "load", "at", "night",
    ];

    /// <summary><paramref name="count"/> sentences; lengths follow a skewed mix, most short, some long.</summary>
    public static string[] Build(int count)
    {
        var random = new Random(20261129);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            var length = random.NextDouble() switch
            {
                < 0.5 => random.Next(3, 12),
                < 0.85 => random.Next(12, 30),
                _ => random.Next(30, 61),
            };
            var words = Enumerable.Range(0, length).Select(_ => Words[random.Next(Words.Length)]);
            return string.Join(' ', words) + ".";
        })];
    }
}
