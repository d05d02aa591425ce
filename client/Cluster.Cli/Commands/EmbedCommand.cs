using System.Globalization;
using System.Text.Json;
using Cluster.Client;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>embed "text" ["text" ...] [--model m] [--json]</c>: each text's embedding size and the start of
/// the vector, then the cosine similarity of every pair.
/// </summary>
public static class EmbedCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(InferenceClient client, CliArguments args, TextWriter output)
    {
        var texts = args.Positional;
        if (texts.Count == 0)
        {
            throw new UsageException("embed needs at least one text, e.g. cluster embed \"A man is eating food.\" \"Someone is having a meal.\"");
        }

        var model = args.Value("--model") ?? TextEmbeddings.DefaultModel;
        var vectors = await client.EmbedAsync(texts, model);
        if (args.Has("--json"))
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                model,
                dimensions = vectors[0].Length,
                embeddings = vectors,
                cosine_similarity = Similarities(vectors),
            }, CliJson.Options));
            return 0;
        }

        output.WriteLine($"{model}: {vectors.Length} text(s), {vectors[0].Length} dimensions");
        for (var i = 0; i < texts.Count; i++)
        {
            var head = string.Join(", ", vectors[i].Take(4).Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture)));
            output.WriteLine($"  [{i + 1}] [{head}, ...]  {texts[i]}");
        }

        if (texts.Count > 1)
        {
            output.WriteLine("cosine similarity:");
            var similarities = Similarities(vectors);
            for (var i = 0; i < texts.Count; i++)
            {
                for (var j = i + 1; j < texts.Count; j++)
                {
                    output.WriteLine($"  [{i + 1}] ~ [{j + 1}]  {similarities[i][j].ToString("0.0000", CultureInfo.InvariantCulture)}");
                }
            }
        }

        return 0;
    }

    private static double[][] Similarities(float[][] vectors) =>
        [.. vectors.Select(a => vectors.Select(b => Math.Round(TextEmbeddings.CosineSimilarity(a, b), 6)).ToArray())];
}
