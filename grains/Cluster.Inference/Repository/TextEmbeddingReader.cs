using System.Text.Json;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>Reads a model's <c>text_embedding</c> object: serve the encoder as a sentences-to-embeddings pipeline.</summary>
internal static class TextEmbeddingReader
{
    private const string Field = "text_embedding";
    private const string Known = "vocabulary, max_tokens, lower_case, max_padding_fraction, dimensions";

    public static TextEmbeddingConfig Read(string file, JsonElement value)
    {
        var config = new TextEmbeddingConfig();
        foreach (var property in ConfigFields.Object(file, Field, value).EnumerateObject())
        {
            var path = $"{Field}.{property.Name}";
            config = property.Name switch
            {
                "vocabulary" => config with { Vocabulary = ConfigFields.FileName(file, path, ConfigFields.String(file, path, property.Value)) },
                "max_tokens" => config with { MaxTokens = ConfigFields.Int(file, path, property.Value, min: 3, max: 65_536) },
                "lower_case" => config with { LowerCase = ConfigFields.Bool(file, path, property.Value) },
                "max_padding_fraction" => config with { MaxPaddingFraction = Fraction(file, path, property.Value) },
                "dimensions" => config with { Dimensions = ConfigFields.Int(file, path, property.Value, min: 1, max: 65_536) },
                _ => throw ConfigFields.Unknown(file, path, Known),
            };
        }

        return config;
    }

    private static double Fraction(string file, string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var fraction) && fraction is >= 0 and < 1
            ? fraction
            : throw new ModelConfigException(file, field, $"must be a number from 0 up to (not including) 1, got {value.GetRawText()}");
}
