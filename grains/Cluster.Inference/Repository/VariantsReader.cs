using System.Text.Json;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>
/// Reads <c>variants</c>: an array of <c>{ "file", "precision", "device_kinds", "min_compute_capability" }</c>, each a file in every
/// version folder, its precision, the device kinds that load it and, optionally, the lowest CUDA compute capability that does.
/// Whether each file is there is checked per version, when it is read.
/// </summary>
internal static class VariantsReader
{
    private const string Known = "file, precision, device_kinds, min_compute_capability";

    public static VariantFile[] Read(string file, JsonElement value)
    {
        var variants = new List<VariantFile>();
        foreach (var item in ConfigFields.Array(file, "variants", value).EnumerateArray())
        {
            var at = $"variants[{variants.Count}]";
            string? name = null, precision = null;
            string[]? kinds = null;
            ComputeCapability? minimum = null;
            foreach (var property in ConfigFields.Object(file, at, item).EnumerateObject())
            {
                var field = $"{at}.{property.Name}";
                switch (property.Name)
                {
                    case "file":
                        name = ConfigFields.FileName(file, field, ConfigFields.String(file, field, property.Value));
                        break;
                    case "precision":
                        precision = Precision(file, field, property.Value);
                        break;
                    case "device_kinds":
                        kinds = ModelConfigReader.DeviceKinds(file, field, property.Value);
                        break;
                    case "min_compute_capability":
                        minimum = Capability(file, field, property.Value);
                        break;
                    default:
                        throw ConfigFields.Unknown(file, field, Known);
                }
            }

            variants.Add(new VariantFile
            {
                File = name ?? throw new ModelConfigException(file, $"{at}.file", "is required"),
                Precision = precision ?? throw new ModelConfigException(file, $"{at}.precision", "is required"),
                DeviceKinds = kinds is { Length: > 0 } ? kinds : throw new ModelConfigException(file, $"{at}.device_kinds", "is required and must name a kind"),
                MinComputeCapability = minimum is null || kinds.Any(k => k == "cuda" || k.StartsWith("sim", StringComparison.Ordinal)) ? minimum
                    : throw new ModelConfigException(file, $"{at}.min_compute_capability", "applies to GPUs only, but device_kinds has no cuda or sim kind"),
            });
        }

        var repeated = variants.GroupBy(v => v.File, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return repeated is null
            ? [.. variants]
            : throw new ModelConfigException(file, "variants", $"declares \"{repeated.Key}\" more than once");
    }

    private static ComputeCapability Capability(string file, string field, JsonElement value)
    {
        var text = ConfigFields.String(file, field, value);
        return ComputeCapability.TryParse(text, out var capability)
            ? capability
            : throw new ModelConfigException(file, field, $"'{text}' must be a CUDA compute capability written major.minor, such as \"8.0\"");
    }

    private static string Precision(string file, string field, JsonElement value)
    {
        var precision = ConfigFields.String(file, field, value);
        return ModelVariants.All.Contains(precision, StringComparer.Ordinal)
            ? precision
            : throw new ModelConfigException(file, field, $"'{precision}' must be one of: {string.Join(", ", ModelVariants.All)}");
    }
}
