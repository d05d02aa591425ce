using System.Text.Json;

namespace Cluster.Inference.Repository;

/// <summary>
/// Typed reads of <c>config.json</c> values that fail with the file and the field's full path. Every number
/// has an upper bound, so that a typo cannot make a silo allocate without limit.
/// </summary>
internal static class ConfigFields
{
    public static int Int(string file, string field, JsonElement value, int min, int max) => (int)Long(file, field, value, min, max);

    public static long Long(string file, string field, JsonElement value, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            throw new ModelConfigException(file, field, $"must be an integer, got {value.GetRawText()}");
        }

        if (number < min)
        {
            throw new ModelConfigException(file, field, $"must be at least {min}, got {number}");
        }

        return number <= max ? number : throw TooLarge(file, field, max, number);
    }

    public static double Double(string file, string field, JsonElement value, double min, double max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            throw new ModelConfigException(file, field, $"must be a number, got {value.GetRawText()}");
        }

        if (number < min)
        {
            throw new ModelConfigException(file, field, $"must be at least {min}, got {number}");
        }

        return number <= max ? number : throw TooLarge(file, field, max, number);
    }

    public static ModelConfigException TooLarge(string file, string field, double max, double number) =>
        new(file, field, $"must be at most {max}, got {number}");

    public static bool Bool(string file, string field, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new ModelConfigException(file, field, $"must be true or false, got {value.GetRawText()}"),
    };

    public static string String(string file, string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw new ModelConfigException(file, field, $"must be a string, got {value.GetRawText()}");

    /// <summary>A file name inside a version folder: no folder part, not <c>.</c> or <c>..</c>.</summary>
    public static string FileName(string file, string field, string name) =>
        name.Length > 0 && Path.GetFileName(name) == name && name is not ("." or "..")
            ? name
            : throw new ModelConfigException(file, field, $"must be a file name inside the version folder, got \"{name}\"");

    public static JsonElement Object(string file, string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new ModelConfigException(file, field, $"must be a JSON object, got {value.GetRawText()}");

    public static JsonElement Array(string file, string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value : throw new ModelConfigException(file, field, $"must be an array, got {value.GetRawText()}");

    public static ModelConfigException Unknown(string file, string field, string known) =>
        new(file, field, $"is not a known setting (known: {known})");
}
